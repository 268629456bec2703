"""``lm_eval:`` tasks are loaded and checked before any model is loaded (exit 2 naming the task,
nothing written), and the lm-eval bridge picks the device as our adapters do (lm-eval's default
``cuda:0`` on a machine without CUDA falls back to the adapter's choice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_lm_eval_bridge import write_lm_eval_tasks
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.integrations.lm_eval_cli import with_device_default
from eval_anything.integrations.lm_eval_model import EvalAnythingLM, usable_device
from eval_anything.integrations.lm_eval_tasks import LmEvalTaskError

pytestmark = pytest.mark.filterwarnings("ignore")


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.fixture(scope="module")
def lm_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bridge's local tasks plus ``broken_data``, whose data file does not exist."""
    folder = write_lm_eval_tasks(tmp_path_factory.mktemp("lmtasks") / "tasks")
    (folder / "broken_data.yaml").write_text(
        "task: broken_data\ndataset_path: json\ntest_split: test\n"
        f"dataset_kwargs:\n  data_files:\n    test: {folder / 'missing.jsonl'}\n"
        'output_type: multiple_choice\ndoc_to_text: "{{q}}"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: label\nmetric_list:\n  - metric: acc\n'
    )
    return folder


def _run(tmp_path: Path, tasks: str, *extra: str) -> tuple[int, str]:
    # a model path that cannot load: the task error must come first
    args = ["run", "--model", "hf", "--model-args", f"pretrained={tmp_path / 'no-model'}",
            "--tasks", tasks, "--output-dir", str(tmp_path / "run"), "--no-cache", "--quiet",
            *extra]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_a_task_whose_data_cannot_load_fails_before_the_model(
    lm_tasks: Path, tmp_path: Path
) -> None:
    code, out = _run(tmp_path, "lm_eval:broken_data", "--lm-eval-include-path", str(lm_tasks))
    assert code == 2, out
    assert "--tasks lm_eval:broken_data: lm-eval cannot load it" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) <= 3
    assert not (tmp_path / "run").exists()


def test_too_many_shards_fail_before_the_model(lm_tasks: Path, tmp_path: Path) -> None:
    code, out = _run(tmp_path, "lm_eval:tiny_gen", "--lm-eval-include-path", str(lm_tasks),
                     "--shard", "5/8")
    assert code == 2, out
    assert "--shard 5/8" in out and "tiny_gen" in out
    assert not (tmp_path / "run").exists()


def test_one_bad_lm_eval_task_stops_a_run_of_good_ones(lm_tasks: Path, tmp_path: Path) -> None:
    code, out = _run(tmp_path, "starter_mc,lm_eval:tiny_mc,lm_eval:broken_data",
                     "--lm-eval-include-path", str(lm_tasks))
    assert code == 2 and "lm_eval:broken_data" in out
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_an_unknown_lm_eval_task_is_named(tmp_path: Path) -> None:
    """Unknown names are looked up in lm-eval's whole catalog (it takes seconds to index)."""
    code, out = _run(tmp_path, "lm_eval:no_such_task_xyz")
    assert code == 2, out
    assert "lm-eval has no task or group 'no_such_task_xyz'" in out
    assert not (tmp_path / "run").exists()


def test_prepared_tasks_are_the_ones_run(lm_tasks: Path, tmp_path: Path) -> None:
    """The task loaded while planning is the one evaluated (loaded once), with our results."""
    from eval_anything import evaluate
    from eval_anything.integrations import lm_eval_tasks
    from eval_anything.models.scripted import ScriptedModel

    res = evaluate("scripted", ["lm_eval:tiny_mc"], output_dir=tmp_path / "run", cache_path=None,
                   progress=False, adapter=ScriptedModel(default="red"),
                   lm_eval_include_paths=[lm_tasks])
    assert res.tasks["lm_eval:tiny_mc"].n == 9
    assert lm_eval_tasks._PREPARED == {}  # handed over, not kept
    with pytest.raises(LmEvalTaskError, match="broken_data"):
        evaluate("scripted", ["lm_eval:broken_data"], output_dir=tmp_path / "run2",
                 cache_path=None, progress=False, adapter=ScriptedModel(default="red"),
                 lm_eval_include_paths=[lm_tasks])


# ---------------------------------------------------------------------- device


@pytest.mark.skipif(_cuda(), reason="checks the fallback on a machine without CUDA")
def test_lm_eval_default_device_falls_back_without_cuda(tiny_llama: Path) -> None:
    assert usable_device("cuda:0") is None and usable_device("cuda") is None
    assert usable_device("cpu") == "cpu" and usable_device(None) is None
    # exactly what lm-eval's simple_evaluate does with its CLI default device
    lm = EvalAnythingLM.create_from_arg_string(
        f"adapter=hf,pretrained={tiny_llama},dtype=float32",
        {"batch_size": 1, "max_batch_size": None, "device": "cuda:0"},
    )
    assert lm.adapter.device == "cpu"  # type: ignore[attr-defined]


def test_the_bridge_command_line_defaults_to_auto() -> None:
    base = ["eval-anything-lm-eval", "run", "--model", "eval-anything", "--tasks", "t"]
    assert with_device_default(base)[-2:] == ["--device", "auto"]
    legacy = ["eval-anything-lm-eval", "--model", "eval-anything", "--tasks", "t"]
    assert with_device_default(legacy)[-2:] == ["--device", "auto"]
    for kept in (
        [*base, "--device", "cuda:1"], [*base, "--device=cpu"], [*base, "--config", "c.yaml"],
        ["eval-anything-lm-eval", "ls", "tasks"], ["eval-anything-lm-eval", "run"],
        [*base, "--help"],
    ):
        assert with_device_default(kept) == kept


def test_results_of_the_prepared_route_are_json(lm_tasks: Path, tmp_path: Path) -> None:
    """The run folder the prepared route writes reads back (samples and results)."""
    from eval_anything import evaluate
    from eval_anything.models.scripted import ScriptedModel

    evaluate("scripted", ["lm_eval:tiny_gen"], output_dir=tmp_path / "run", cache_path=None,
             progress=False, adapter=ScriptedModel(default="yes"),
             lm_eval_include_paths=[lm_tasks])
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    assert data["tasks"]["lm_eval:tiny_gen"]["metrics"]["exact_match"]["value"] == 1.0
