"""No false greens or silent surprises: ``watch --once`` says what it scored and skipped, a
reading command refuses a store file that does not exist, a run says how much of it the cache
answered, one checkpoint is one model whichever adapter ran it, and ``scripted`` without a
script is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.errors import ConfigError
from eval_anything.store import open_store
from eval_anything.store.synthetic import binary_run

runner = CliRunner()


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


# ---------------------------------------------------------------- watch --once


def test_once_names_an_incomplete_checkpoint_and_fails(tmp_path: Path) -> None:
    root = tmp_path / "ckpts"
    (root / "checkpoint-3").mkdir(parents=True)
    (root / "checkpoint-3" / "config.json").write_text("{}")  # the weights never came
    result = runner.invoke(app, ["watch", str(root), "--tasks", "starter_gen", "--once",
                                 "--no-push", "--settle", "0.2"])
    assert result.exit_code == 1, result.output
    assert "scored 0 checkpoint(s) this session" in result.output
    assert "skipped checkpoint-3: incomplete, missing weights" in result.output


def test_once_over_a_folder_without_checkpoints_fails(tmp_path: Path) -> None:
    (tmp_path / "ckpts" / "step_10").mkdir(parents=True)  # not the --pattern
    result = runner.invoke(app, ["watch", str(tmp_path / "ckpts"), "--tasks", "starter_gen",
                                 "--once", "--no-push", "--settle", "0"])
    assert result.exit_code == 1, result.output
    assert "no folder in" in result.output and "--pattern" in result.output


def test_a_checkpoint_still_settling_is_named_with_the_reason(
    tmp_path: Path, tiny_llama: Path
) -> None:
    from eval_anything.trainers.autoscore.checkpoint_scoring import ScoreSettings
    from eval_anything.trainers.autoscore.watch import Watcher

    root = tmp_path / "ckpts"
    shutil.copytree(tiny_llama, root / "checkpoint-1")  # just written
    watcher = Watcher(root, ScoreSettings(tasks=["starter_gen"], push=False), settle_s=3600)
    [(checkpoint, why)] = watcher.unscored()
    assert checkpoint.name == "checkpoint-1" and why.startswith("still being written")


# ---------------------------------------------------------------- stores that do not exist


def test_leaderboard_refuses_a_store_file_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    result = runner.invoke(app, ["leaderboard", "--store", str(missing), "--port", "1"])
    assert result.exit_code == 2
    assert str(missing) in result.stderr and "eval-anything push RUN_DIR" in result.stderr
    assert not missing.exists()  # never created empty


def test_leaderboard_refuses_a_missing_store_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "env.sqlite"
    monkeypatch.setenv("EVAL_ANYTHING_STORE", str(missing))
    result = runner.invoke(app, ["leaderboard", "--port", "1"])
    assert result.exit_code == 2 and "EVAL_ANYTHING_STORE" in result.stderr
    assert not missing.exists()


def test_gate_refuses_a_missing_store_even_with_run_folders(tmp_path: Path) -> None:
    run = binary_run(tmp_path / "r", "run-1", {"a": [1, 0, 1]})
    missing = tmp_path / "nope" / "store.sqlite"
    result = runner.invoke(app, ["gate", "--baseline", str(run), "--candidate", str(run),
                                 "--store", str(missing)])
    assert result.exit_code == 2 and str(missing) in result.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_readers_refuse_and_push_creates(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with pytest.raises(ConfigError, match="only reads a store"):
        open_store(str(path), create=False)
    assert not path.exists()
    run = binary_run(tmp_path / "r", "run-1", {"a": [1, 0, 1]})
    pushed = runner.invoke(app, ["push", str(run), "--store", str(path)])
    assert pushed.exit_code == 0, pushed.output
    with open_store(str(path), create=False) as store:  # now it exists: readers open it
        assert store.dialect == "sqlite"


# ---------------------------------------------------------------- answers from the cache


def _run(tmp_path: Path, out: str, *extra: str) -> Any:
    args = ["run", "--model", "scripted", "--model-args", "default=4", "--tasks",
            "starter_gen,starter_mc", "--limit", "4", "--quiet", "--output-dir",
            str(tmp_path / out), *extra]
    return runner.invoke(app, args)


def test_a_run_answered_from_the_cache_says_so(tmp_path: Path) -> None:
    cache = ["--cache-path", str(tmp_path / "cache.sqlite")]
    cold = _run(tmp_path, "cold", *cache)
    assert cold.exit_code == 0, cold.output
    assert "cache: 0 of 8 answers from the cache" in cold.output
    assert "mostly cache reads" not in cold.output
    warm = _run(tmp_path, "warm", *cache)
    assert warm.exit_code == 0, warm.output
    assert "starter_gen: 4 of 4 answers from the cache" in warm.output
    assert "cache: 8 of 8 answers from the cache" in warm.output
    assert "mostly cache reads, not the model's speed" in warm.output
    results = json.loads((tmp_path / "warm" / "results.json").read_text())
    assert results["cache"] == {"answers": 8, "answers_cached": 8, "judgments": 0,
                                "judgments_cached": 0}
    assert results["tasks"]["starter_mc"]["cache"]["answers_cached"] == 4
    resumed = _run(tmp_path, "warm", *cache)  # nothing left to answer: nothing counted
    assert json.loads((tmp_path / "warm" / "results.json").read_text())["cache"]["answers"] == 0
    assert "answers from the cache" not in resumed.output


def test_without_the_cache_nothing_is_counted_as_cached(tmp_path: Path) -> None:
    result = _run(tmp_path, "run", "--no-cache")
    assert result.exit_code == 0, result.output
    use = json.loads((tmp_path / "run" / "results.json").read_text())["cache"]
    assert use["answers"] == 8 and use["answers_cached"] == 0


# ---------------------------------------------------------------- one checkpoint, one model


class _TokenizerOnlyEngine:
    """vLLM's ``LLM`` as far as the adapter's constructor reaches (a GPU process elsewhere)."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(folder)

    def get_tokenizer(self) -> Any:
        return self.tok


def test_the_same_weights_are_one_model_whatever_the_adapter_label_or_path(
    tmp_path: Path, tiny_llama: Path, tiny_llama_b: Path
) -> None:
    from eval_anything.models.hf import HFModel
    from eval_anything.models.vllm import VLLMModel

    moved = shutil.copytree(tiny_llama, tmp_path / "elsewhere")
    plain = HFModel(str(tiny_llama), dtype="float32")
    labelled = HFModel(str(moved), dtype="float32", name="my-model")
    served = VLLMModel(pretrained=str(tiny_llama), dtype="float32",
                       engine=_TokenizerOnlyEngine(tiny_llama))
    ids = {m.model_identity_hash() for m in (plain, labelled, served)}
    assert len(ids) == 1
    assert HFModel(str(tiny_llama_b), dtype="float32").model_identity_hash() not in ids
    assert HFModel(str(tiny_llama), dtype="float16").model_identity_hash() not in ids
    # the response cache still keys by the adapter: hf and vLLM never share answers
    assert plain.identity_hash() != served.identity_hash()


def test_a_run_folder_written_under_the_former_identity_resumes(tmp_path: Path) -> None:
    from eval_anything.core.results import RunSpec
    from eval_anything.run.run_dir import RUN_FILE, RunDirError, prepare_run_dir

    spec = RunSpec(model="hf", tasks=["starter_gen"])
    run_id = prepare_run_dir(tmp_path, spec, "adapter-identity", None)
    with pytest.raises(RunDirError, match="different model"):
        prepare_run_dir(tmp_path, spec, "model-identity", None)
    assert prepare_run_dir(tmp_path, spec, "model-identity", None,
                           former_identity="adapter-identity") == run_id
    assert json.loads((tmp_path / RUN_FILE).read_text())["model_identity"] == "model-identity"


# ---------------------------------------------------------------- scripted


def test_scripted_without_a_script_or_default_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--model", "scripted", "--tasks", "starter_mc",
                                 "--limit", "3", "--quiet", "--output-dir", str(out)])
    assert result.exit_code == 2
    assert "'script'" in result.stderr and "'default'" in result.stderr
    assert "--model-args script=" in result.stderr
    assert not (out / "results.json").exists()


def test_scripted_name_is_the_runs_label(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--model", "scripted", "--model-args",
                                 "default=4,name=my-bot", "--tasks", "starter_gen", "--limit",
                                 "2", "--quiet", "--no-cache", "--output-dir",
                                 str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "run" / "results.json").read_text())["model"]
    assert model["name"] == "my-bot" and model["adapter"] == "scripted"
