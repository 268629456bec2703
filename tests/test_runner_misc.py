from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval_anything.errors import ConfigError
from eval_anything.run.plan import parse_shard, resolve_shard


def test_shard_auto_reads_launcher_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert resolve_shard("auto") == "2/4"
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert resolve_shard("auto") is None
    assert resolve_shard("1/3") == "1/3"


@pytest.mark.parametrize("bad", ["3/3", "x", "1/0", "-1/2"])
def test_bad_shard_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(bad)


def test_model_args_parsing() -> None:
    from eval_anything.model_args import public_args, split_model_args, typed_model_args

    class OpenAdapter:  # takes any keyword: values are read untyped (bool, int, float, str)
        def __init__(self, **kwargs: object) -> None: ...

    def parse_model_args(text: str) -> dict[str, object]:
        return typed_model_args(OpenAdapter, split_model_args(text))

    args = parse_model_args("pretrained=/m,dtype=float32,batch_size=4,x=1.5,flag=true,api_key=s")
    assert args == {"pretrained": "/m", "dtype": "float32", "batch_size": 4, "x": 1.5,
                    "flag": True, "api_key": "s"}
    assert "api_key" not in public_args(args)
    with pytest.raises(ValueError, match="key=value"):
        parse_model_args("pretrained")


# ---------------------------------------------------------------- evaluate() closes what it built

CLOSED: list[str] = []


@pytest.fixture
def probes(tmp_path: Path) -> Iterator[tuple[Path, type]]:
    """A registered adapter and judge whose close() is recorded in CLOSED, and a task whose
    scorer needs the judge; both are unregistered afterwards."""
    from eval_anything import registry
    from eval_anything.judges.base import Judge, Judgment
    from eval_anything.models.scripted import ScriptedModel

    class ClosingModel(ScriptedModel):
        def __init__(self, fail: bool = False, **kw: object) -> None:
            super().__init__(default="x", **kw)  # type: ignore[arg-type]
            self.fail = fail

        def generate(self, requests: list[Any]) -> list[Any]:
            if self.fail:
                raise RuntimeError("the model broke mid-run")
            return super().generate(requests)

        def close(self) -> None:
            CLOSED.append("adapter")

    class ClosingJudge(Judge):
        kinds = ("pairwise",)

        def __init__(self, arg: str | None = None, cache: object = None) -> None: ...

        def identity(self) -> str:
            return "closing"

        def judge(self, items: list[Any]) -> list[Judgment]:
            return [Judgment(value=1.0) for _ in items]

        def close(self) -> None:
            CLOSED.append("judge")

    registry.register("model", "closing_probe")(ClosingModel)
    registry.register("judge", "closing_probe")(ClosingJudge)
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "t.yaml").write_text(
        "task: closing_task\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: pairwise_vs_reference}]\njudges: {judge: closing_probe}\n")
    (tasks / "data.jsonl").write_text('{"id": "1", "question": "q", "answer": "x"}\n')
    CLOSED.clear()
    yield tasks, ClosingModel
    registry._LOADED["model"].pop("closing_probe", None)
    registry._LOADED["judge"].pop("closing_probe", None)


def _evaluate(tasks: Path, tmp_path: Path, **kw: Any) -> Any:
    from eval_anything.run.runner import evaluate

    return evaluate("closing_probe", ["closing_task"], include_paths=[tasks], cache_path=None,
                    output_dir=tmp_path / "run", progress=False, **kw)


def test_evaluate_closes_the_adapter_and_judges_it_built(
    probes: tuple[Path, type], tmp_path: Path
) -> None:
    tasks, _ = probes
    _evaluate(tasks, tmp_path)
    assert sorted(CLOSED) == ["adapter", "judge"]


def test_evaluate_closes_what_it_built_when_the_run_fails(
    probes: tuple[Path, type], tmp_path: Path
) -> None:
    tasks, _ = probes
    with pytest.raises(RuntimeError, match="broke mid-run"):
        _evaluate(tasks, tmp_path, model_args={"fail": True})
    assert sorted(CLOSED) == ["adapter", "judge"]


def test_evaluate_leaves_a_passed_adapter_open(
    probes: tuple[Path, type], tmp_path: Path
) -> None:
    tasks, model_cls = probes
    mine = model_cls()
    _evaluate(tasks, tmp_path, adapter=mine)
    assert CLOSED == ["judge"]  # the caller's adapter is the caller's to close


def test_an_unused_judge_role_is_refused_before_anything_is_built(
    probes: tuple[Path, type], tmp_path: Path
) -> None:
    tasks, _ = probes
    with pytest.raises(ConfigError, match="image_judge") as e:
        _evaluate(tasks, tmp_path, judges={"image_judge": "analyzer"})
    assert "closing_task" in str(e.value) and "judge roles are judge" in str(e.value)
    assert CLOSED == [] and not (tmp_path / "run").exists()
