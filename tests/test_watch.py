"""``watch``: checkpoints written by a separate process are scored once each, in step order, and
a restarted watcher scores nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval_anything.trainers.autoscore.checkpoint_scoring import ScoreSettings
from eval_anything.trainers.autoscore.watch import (
    Watcher,
    find_checkpoints,
    is_complete,
    missing_parts,
)

WRITER = """
import shutil, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from tiny import build_tiny_llama
root = Path({root!r})
for step in (10, 20, 30):
    tmp = root / f"staging-{{step}}"
    build_tiny_llama(tmp, seed=step)
    dest = root / f"checkpoint-{{step}}"
    dest.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                 "generation_config.json", "model.safetensors"):
        if (tmp / name).exists():
            shutil.copy(tmp / name, dest / name)  # the weights land last, as a slow writer's would
            time.sleep(0.2)
    shutil.rmtree(tmp)
    time.sleep(1.0)
"""


@pytest.mark.slow
def test_watch_scores_checkpoints_of_another_process_once(tmp_path: Path) -> None:
    root = tmp_path / "ckpts"
    root.mkdir()
    tests = str(Path(__file__).resolve().parent)
    writer = subprocess.Popen([sys.executable, "-c", WRITER.format(tests=tests, root=str(root))])
    settings = ScoreSettings(tasks=["starter_gen"], limit=2, push=False)
    seen: list[int] = []
    watcher = Watcher(root, settings, settle_s=0.5, on_outcome=lambda o: seen.append(o.step))
    try:
        outcomes = watcher.run(poll_s=0.3, until=lambda: writer.poll() is not None)
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert seen == [10, 20, 30]  # each once, in step order
    assert all(o.status == "scored" for o in outcomes), [o.error for o in outcomes]
    ledger = json.loads((root / ".eval_anything" / "ledger.json").read_text())
    assert sorted(ledger["checkpoints"]) == ["checkpoint-10", "checkpoint-20", "checkpoint-30"]
    run_dirs = {o.run_dir for o in outcomes}
    assert len(run_dirs) == 3

    # a restart with the same folder scores nothing again
    again = Watcher(root, settings, settle_s=0.0)
    assert again.pending() == []
    assert again.run(once=True) == []
    assert again.scorer.training_run_id == watcher.scorer.training_run_id


def test_only_complete_checkpoints_count(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / "config.json").write_text("{}")
    (tmp_path / "checkpoint-10").mkdir()
    (tmp_path / "checkpoint-10" / "config.json").write_text("{}")
    (tmp_path / "checkpoint-10" / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "model-1.safetensors", "b": "model-2.safetensors"}})
    )
    (tmp_path / "checkpoint-10" / "model-1.safetensors").write_bytes(b"x")
    (tmp_path / "tmp-checkpoint-3").mkdir()
    (tmp_path / "notes.txt").write_text("not a checkpoint")

    found = find_checkpoints(tmp_path)
    assert [c.step for c in found] == [2, 10]  # numeric order, other names ignored
    assert missing_parts(found[0].path) == ["weights (model.safetensors or an index)"]
    assert missing_parts(found[1].path) == ["model-2.safetensors"]
    (tmp_path / "checkpoint-10" / "model-2.safetensors").write_bytes(b"y")
    assert missing_parts(found[1].path) == []
    assert is_complete(found[1].path, settle_s=0.0)
    assert not is_complete(found[1].path, settle_s=3600.0)  # just written: not settled yet
    assert [c.step for c in find_checkpoints(tmp_path, r"step_(\d+)")] == []


def test_failed_checkpoint_is_reported_and_the_next_scored(
    tmp_path: Path, tiny_llama: Path
) -> None:
    import shutil

    root = tmp_path / "ckpts"
    shutil.copytree(tiny_llama, root / "checkpoint-1")
    shutil.copytree(tiny_llama, root / "checkpoint-2")
    (root / "checkpoint-1" / "model.safetensors").write_bytes(b"corrupt")
    watcher = Watcher(root, ScoreSettings(tasks=["starter_gen"], limit=1, push=False),
                      settle_s=0.0)
    outcomes = watcher.run(once=True)
    assert [(o.step, o.status) for o in outcomes] == [(1, "failed"), (2, "scored")]
    assert outcomes[0].error
    assert Watcher(root, watcher.scorer.settings, settle_s=0.0).pending() == []  # not retried
    retry = Watcher(root, watcher.scorer.settings, settle_s=0.0, retry_failed=True)
    assert [c.step for c in retry.pending()] == [1]


@pytest.mark.slow
def test_watch_cli_once(tmp_path: Path, tiny_llama: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from eval_anything.cli import app

    root = tmp_path / "ckpts"
    shutil.copytree(tiny_llama, root / "checkpoint-7")  # just written, as right after training
    args = ["watch", str(root), "--tasks", "starter_gen", "--limit", "1", "--once",
            "--no-push", "--settle", "2", "--training-run-id", "ext-run"]
    first = CliRunner().invoke(app, args)  # waits for it to settle instead of skipping it
    assert first.exit_code == 0, first.output
    assert "step 7 (checkpoint-7): starter_gen/exact_match" in first.output
    assert "scored 1 checkpoint(s) this session: checkpoint-7" in first.output
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and "step 7" not in second.output  # scored once
    assert "scored 0 checkpoint(s)" in second.output
    assert "left alone 1 the ledger settled before" in second.output
    ledger = json.loads((root / ".eval_anything" / "ledger.json").read_text())
    assert ledger["training_run_id"] == "ext-run"


# ---------------------------------------------------------------- the trainer's training run id


def _settings() -> ScoreSettings:
    return ScoreSettings(tasks=["starter_gen"], limit=1, push=False)


def test_watch_reuses_the_trainers_training_run_id(tmp_path: Path) -> None:
    from eval_anything.trainers.config import persistent_run_id

    root = tmp_path / "out"
    trainer_id = persistent_run_id(root, "dpo")  # what a built-in trainer writes
    watcher = Watcher(root, _settings())
    assert watcher.scorer.training_run_id == trainer_id == watcher.trainer_run_id
    assert not (root / ".eval_anything" / "training_run.json").exists()  # no second id
    assert Watcher(root, _settings(), training_run_id="mine").scorer.training_run_id == "mine"


def test_trainer_id_from_its_autoscore_ledger_when_the_config_named_it(tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "autoscore").mkdir(parents=True)
    (root / "autoscore" / "ledger.json").write_text(
        json.dumps({"training_run_id": "cfg-run", "checkpoints": {}})
    )
    assert Watcher(root, _settings()).scorer.training_run_id == "cfg-run"


def test_an_older_watch_ledger_follows_the_trainers_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "out"
    Watcher(root, _settings())  # an earlier watch invented an id and keeps it in its runs dir
    invented = json.loads((root / ".eval_anything" / "training_run.json").read_text())
    (root / ".eval_anything" / "ledger.json").write_text(
        json.dumps({"training_run_id": invented["training_run_id"], "checkpoints": {}})
    )
    (root / "training_run.json").write_text(json.dumps({"training_run_id": "dpo-abc"}))
    with caplog.at_level("WARNING"):
        watcher = Watcher(root, _settings())
    assert watcher.scorer.training_run_id == "dpo-abc"
    assert watcher.scorer.ledger.training_run_id == "dpo-abc"
    assert invented["training_run_id"] in caplog.text and "dpo-abc" in caplog.text


def test_an_unreadable_trainer_marker_is_named(tmp_path: Path) -> None:
    from eval_anything.errors import UserError

    root = tmp_path / "out"
    root.mkdir()
    (root / "training_run.json").write_text("{not json")
    with pytest.raises(UserError, match=r"training_run.json: cannot read the training run id"):
        Watcher(root, _settings())


@pytest.mark.slow
def test_scored_checkpoints_carry_the_trainers_lineage(tmp_path: Path, tiny_llama: Path) -> None:
    import shutil

    from eval_anything.core.results_files import read_results

    root = tmp_path / "out"
    shutil.copytree(tiny_llama, root / "checkpoint-40")
    (root / "training_run.json").write_text(json.dumps({"training_run_id": "dpo-0a4e785b"}))
    outcomes = Watcher(root, _settings(), settle_s=0.0).run(once=True)
    assert [o.status for o in outcomes] == ["scored"]
    lineage = read_results(Path(outcomes[0].run_dir)).lineage
    assert lineage is not None
    assert (lineage.training_run_id, lineage.step) == ("dpo-0a4e785b", 40)
