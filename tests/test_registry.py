from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eval_anything import registry


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(registry.UnknownComponentError) as e:
        registry.get("scorer", "exact_mtch", where="tasks/x.yaml: field 'scorers'")
    msg = str(e.value)
    assert "tasks/x.yaml: field 'scorers'" in msg
    assert "did you mean 'exact_match'" in msg


def test_builtins_are_lazy_and_listed() -> None:
    assert {"hf", "scripted", "smollm2", "openai"} <= set(registry.names("model"))
    cls = registry.get("model", "scripted")
    assert cls.__name__ == "ScriptedModel"


def test_entry_point_plugin_adds_a_scorer_and_a_task_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "ea_plugin_demo"
    pkg.mkdir()
    tasks_dir = pkg / "tasks"
    tasks_dir.mkdir()
    (pkg / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from eval_anything.scoring.base import Scorer\n"
        "from eval_anything.core.results import ScoreRecord\n"
        "TASKS = Path(__file__).parent / 'tasks'\n"
        "class AlwaysOne(Scorer):\n"
        "    def score(self, samples, outputs, ctx):\n"
        "        return [{self.name: ScoreRecord(value=1.0)} for _ in samples]\n"
    )
    (tasks_dir / "plug.yaml").write_text(
        "task: plugin_task\nsource: {jsonl: plug.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: always_one}]\n"
    )
    (tasks_dir / "plug.jsonl").write_text('{"id": "1", "question": "q", "answer": "a"}\n')
    dist = tmp_path / "ea_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ea-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[eval_anything.plugins]\n"
        "scorer.always_one = ea_plugin_demo:AlwaysOne\n"
        "tasks.demo = ea_plugin_demo:TASKS\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    try:
        assert "always_one" in registry.names("scorer")
        from eval_anything.run.runner import evaluate

        res = evaluate(
            "scripted",
            ["plugin_task"],
            model_args={"default": "z"},
            cache_path=None,
            output_dir=tmp_path / "run",
            progress=False,
        )
        assert res.tasks["plugin_task"].metrics["always_one"].value == 1.0
    finally:
        sys.modules.pop("ea_plugin_demo", None)
        for kind in ("scorer", "tasks"):
            registry._LAZY[kind].pop("always_one", None)
            registry._LAZY[kind].pop("demo", None)
            registry._LOADED[kind].pop("always_one", None)
            registry._LOADED[kind].pop("demo", None)
