"""``--tasks path/to/task.yaml`` runs a task file directly, as lm-eval accepts; ``--version``;
no ``--no-no-cache`` in the help."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_anything import __version__
from eval_anything.cli import app
from eval_anything.models.scripted import ScriptedModel
from eval_anything.run.runner import evaluate
from eval_anything.spec.catalog import bundled_tasks_dir, load_catalog
from eval_anything.spec.task import TaskSpecError


def _copy_starter(folder: Path, name: str) -> Path:
    """starter_gen renamed to ``name`` beside its data, as a user's own task file."""
    folder.mkdir(parents=True, exist_ok=True)
    src = bundled_tasks_dir() / "starter"
    shutil.copy(src / "starter_gen.jsonl", folder / "starter_gen.jsonl")
    text = (src / "starter_gen.yaml").read_text(encoding="utf-8")
    path = folder / f"{name}.yaml"
    path.write_text(text.replace("task: starter_gen", f"task: {name}"), encoding="utf-8")
    return path


def test_a_task_file_path_is_expanded_to_its_task(tmp_path: Path) -> None:
    path = _copy_starter(tmp_path / "mine", "my_add")
    catalog = load_catalog()
    tasks, groups = catalog.expand([str(path), "starter_mc"])
    assert tasks == ["my_add", "starter_mc"] and groups == []
    assert Path(str(catalog.tasks["my_add"].file)).resolve() == path.resolve()


def test_a_task_file_runs_end_to_end(tmp_path: Path) -> None:
    path = _copy_starter(tmp_path / "mine", "my_add")
    res = evaluate("scripted", [str(path)], limit=4, output_dir=tmp_path / "run",
                   cache_path=None, progress=False, adapter=ScriptedModel(default="7"))
    assert list(res.tasks) == ["my_add"] and res.tasks["my_add"].n == 4


def test_a_missing_task_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(TaskSpecError, match=r"--tasks .*nope\.yaml: no such task file"):
        load_catalog().expand([str(tmp_path / "nope.yaml")])
    result = CliRunner().invoke(app, ["run", "--model", "scripted", "--tasks",
                                      str(tmp_path / "nope.yaml"), "--output-dir",
                                      str(tmp_path / "run")])
    assert result.exit_code == 2
    assert not (tmp_path / "run").exists()


def test_a_task_file_clashing_with_a_bundled_name_is_refused(tmp_path: Path) -> None:
    path = _copy_starter(tmp_path / "mine", "starter_gen")
    with pytest.raises(TaskSpecError, match="already defined"):
        load_catalog().expand([str(path)])


def test_version_and_help() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.output.strip() == f"eval-anything {__version__}"
    helptext = runner.invoke(app, ["run", "--help"], terminal_width=200).output
    assert "--no-cache" in helptext and "--no-no-cache" not in helptext
