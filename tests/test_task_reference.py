"""``tasks/README.md``, the task-authoring reference, stays complete and true.

Why: error messages send task authors there, so it must list every field of the task and group
specs (nested ones included) and every registered loader, scorer, metric and aggregator, and its
YAML examples must load through the real task loader. A new field or component without a line
in the reference fails here, naming what is missing.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from eval_anything import registry
from eval_anything.core.requests import GenerationConfig
from eval_anything.spec.task import GroupSpec, TaskSpec, load_spec_file

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tasks" / "README.md"
STARTER = ROOT / "tasks" / "starter"
SOURCE_FOLDERS = ("eval_anything", "trainers", "leaderboard")

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text under a ``##``/``###`` heading, up to the next heading of any level."""
    text = reference_text()
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"tasks/README.md has no section '{title}'"
    return match.group(1)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(reference_text()) if kind == lang]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (list, Union, UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field, nested models included (``scorers[].args``)."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        is_list = get_origin(info.annotation) is list
        for sub in _models_in(info.annotation):
            paths += field_paths(sub, f"{path}[]." if is_list else f"{path}.")
    return paths


def task_field_paths() -> list[str]:
    # ``generation`` is a mapping in YAML that becomes a GenerationConfig
    return field_paths(TaskSpec) + field_paths(GenerationConfig, "generation.")


def test_field_paths_walk_nested_models() -> None:
    paths = task_field_paths()
    for path in ("source.hf.revision", "scorers[].args", "metrics[].score",
                 "scale.higher_is_better", "prompt.template", "generation.stop", "loader.name"):
        assert path in paths


@pytest.mark.parametrize(
    ("title", "paths"),
    [("Task fields", task_field_paths), ("Groups", lambda: field_paths(GroupSpec))],
)
def test_every_spec_field_is_documented(title: str, paths: Any) -> None:
    text = section(title)
    missing = [p for p in paths() if f"`{p}`" not in text]
    assert not missing, f"tasks/README.md, section '{title}': add a row for {missing}"


@pytest.mark.parametrize(
    ("kind", "title"),
    [("loader", "Loaders"), ("scorer", "Scorers"), ("metric", "Metrics"),
     ("aggregator", "Aggregators")],
)
def test_every_registered_component_is_documented(kind: str, title: str) -> None:
    text = section(title)
    missing = [n for n in registry.names(kind) if f"| `{n}`" not in text]
    assert not missing, f"tasks/README.md, section '{title}': add a row for {kind}s {missing}"


@pytest.fixture
def hooks_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the reference's Python hook examples against a copy of the registry, so what they
    register is gone after the test."""
    registry.names("scorer")  # built-ins listed before the copy
    monkeypatch.setattr(registry, "_LOADED", {k: dict(v) for k, v in registry._LOADED.items()})
    for code in blocks("python"):
        exec(compile(code, "tasks/README.md", "exec"), {"__name__": "readme_hooks"})


def test_every_yaml_example_loads(hooks_registered: None, tmp_path: Path) -> None:
    """Whole tasks and groups through the task loader (components checked against the
    registry); each one next to the starter data so a ``jsonl`` source resolves."""
    examples = blocks("yaml")
    whole = [e for e in examples if {"task", "group"} & set(yaml.safe_load(e))]
    assert len(whole) == len(examples) and len(whole) >= 10
    for k, text in enumerate(whole):
        path = tmp_path / f"example_{k}.yaml"
        path.write_text(text, encoding="utf-8")
        spec = load_spec_file(path)
        assert isinstance(spec, (TaskSpec, GroupSpec))


def test_examples_match_the_bundled_tasks() -> None:
    """An example that names a bundled task says what that task's file says (it may leave
    fields out, never change them)."""
    bundled = {}
    for path in (ROOT / "tasks").rglob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        bundled[raw.get("task") or raw.get("group")] = raw
    compared = 0
    for text in blocks("yaml"):
        example = yaml.safe_load(text)
        name = example.get("task") or example.get("group")
        if name not in bundled:
            continue
        compared += 1
        for key, value in example.items():
            if key == "description" or (key == "prompt" and name.startswith("mini_amg_modality")):
                continue  # shortened prose
            assert bundled[name].get(key) == value, f"example {name!r}, field {key!r}"
    assert compared >= 8


def test_hook_example_runs_end_to_end(hooks_registered: None, tmp_path: Path) -> None:
    """The reference's hook scorer and the task naming it, run as its text says."""
    from eval_anything import evaluate
    from eval_anything.models.scripted import ScriptedModel

    text = next(b for b in blocks("yaml") if "answer_words" in b)
    shutil.copy(STARTER / "starter_gen.jsonl", tmp_path / "starter_gen.jsonl")
    task_file = tmp_path / "words.yaml"
    task_file.write_text(text, encoding="utf-8")
    res = evaluate("scripted", [str(task_file)], limit=3, output_dir=tmp_path / "run",
                   cache_path=None, progress=False, adapter=ScriptedModel(default="it is 5"))
    metric = res.tasks["starter_gen_words"].metrics["answer_words"]
    assert metric.value == 3.0 and metric.n == 3


def _string_constants(tree: ast.AST) -> list[str]:
    """String literals that are not docstrings (messages, help texts)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_documents_named_in_messages_exist() -> None:
    """Every README or docs page that a message or help text points to is in the tree."""
    named: dict[str, str] = {}
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for s in _string_constants(tree):
                for doc in re.findall(r"[\w./-]*\.md\b", s):
                    named.setdefault(doc, str(path.relative_to(ROOT)))
                if re.search(r"\bthe README\b", s):
                    named.setdefault("README.md", str(path.relative_to(ROOT)))
    assert "tasks/README.md" in named
    missing = {doc: where for doc, where in named.items() if not (ROOT / doc).is_file()}
    assert not missing, f"messages point to documents that do not exist: {missing}"
