"""AutoScoreCallback on a plain transformers Trainer: each checkpoint is scored in a child
process, linked to the training run and step, pushed to a store; a corrupt checkpoint is reported
with its error while training goes on and the next checkpoint is still scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.core.results_files import read_results
from eval_anything.trainers.autoscore.callback import AutoScoreCallback
from eval_anything.trainers.autoscore.checkpoint_scoring import Ledger


def _user_trainer(model_dir: Path, out: Path, callbacks: list, steps: int = 3):  # type: ignore[no-untyped-def]
    """What a user writes: a causal-LM Trainer, nothing from eval-anything but the callback."""
    import datasets
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = datasets.Dataset.from_list([{"text": "What is 2 + 3? Answer: 5"}] * 8)
    ds = ds.map(lambda r: tok(r["text"]), remove_columns=["text"])
    args = TrainingArguments(
        output_dir=str(out), max_steps=steps, save_steps=1, per_device_train_batch_size=4,
        use_cpu=True, report_to="none", logging_steps=1, disable_tqdm=True,
    )
    return Trainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir), args=args, train_dataset=ds,
        processing_class=tok, data_collator=DataCollatorForLanguageModeling(tok, mlm=False),
        callbacks=callbacks,
    )


def _corrupt_at(step: int):  # type: ignore[no-untyped-def]
    """A callback placed before the auto-scorer that truncates one checkpoint's weights."""
    from transformers import TrainerCallback

    class Corrupt(TrainerCallback):
        def on_save(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            if state.global_step == step:
                weights = Path(args.output_dir) / f"checkpoint-{step}" / "model.safetensors"
                weights.write_bytes(weights.read_bytes()[:100])

    return Corrupt()


@pytest.mark.slow
def test_user_trainer_gets_every_checkpoint_scored(tmp_path: Path, tiny_llama: Path) -> None:
    store = tmp_path / "store.sqlite"
    cb = AutoScoreCallback(
        tasks=["starter_gen"], limit=2, training_run_id="user-run", store=str(store),
        runs_dir=tmp_path / "scores", score_base=True, base_model=str(tiny_llama),
    )
    trainer = _user_trainer(tiny_llama, tmp_path / "out", [_corrupt_at(2), cb])
    trainer.train()

    assert trainer.state.global_step == 3  # training went on past the failure
    assert [(o.name, o.status) for o in cb.outcomes] == [
        ("base", "scored"), ("checkpoint-1", "scored"), ("checkpoint-2", "failed"),
        ("checkpoint-3", "scored"),
    ]
    base, outcomes = cb.outcomes[0], cb.outcomes[1:]
    base_lineage = read_results(Path(base.run_dir)).lineage
    assert base.step == 0 and base_lineage is not None and base_lineage.step == 0
    failed = outcomes[1]
    assert failed.error is not None and "SafetensorError" in failed.error
    assert not (Path(failed.run_dir) / "results.json").exists()  # never marked scored
    for o in (outcomes[0], outcomes[2]):
        results = read_results(Path(o.run_dir))
        assert results.lineage is not None
        assert (results.lineage.training_run_id, results.lineage.step) == ("user-run", o.step)
        assert results.lineage.checkpoint_path == str((tmp_path / "out" / o.name).resolve())
        assert "starter_gen/exact_match" in o.metrics
        assert o.primary == ["starter_gen/exact_match"]  # what train/watch print per checkpoint
        assert o.pushed_run_id == results.run_id  # pushed to the store
    ledger = json.loads((tmp_path / "scores" / "ledger.json").read_text())
    assert ledger["training_run_id"] == "user-run"
    assert {k: v["status"] for k, v in ledger["checkpoints"].items()} == {
        "base": "scored", "checkpoint-1": "scored", "checkpoint-2": "failed",
        "checkpoint-3": "scored",
    }

    from eval_anything.store import open_store, queries

    with open_store(str(store)) as s:
        assert queries.count_runs(s) == 3


@pytest.mark.slow
def test_background_scoring_finishes_before_train_returns(
    tmp_path: Path, tiny_llama: Path
) -> None:
    cb = AutoScoreCallback(tasks=["starter_gen"], limit=1, push=False, background=True)
    trainer = _user_trainer(tiny_llama, tmp_path / "out", [cb], steps=2)
    trainer.train()
    assert [(o.step, o.status) for o in cb.outcomes] == [(1, "scored"), (2, "scored")]
    marker = tmp_path / "out" / "training_run.json"
    run_id = json.loads(marker.read_text())["training_run_id"]
    lineage = read_results(Path(cb.outcomes[1].run_dir)).lineage
    assert lineage is not None and lineage.training_run_id == run_id


def test_ledger_keeps_scored_checkpoints_across_restarts(tmp_path: Path) -> None:
    from eval_anything.trainers.autoscore.checkpoint_scoring import ScoreOutcome

    ledger = Ledger(tmp_path / "ledger.json", "run-a")
    ledger.record(ScoreOutcome(name="checkpoint-5", checkpoint="/c/5", step=5, status="scored",
                               run_dir=str(tmp_path / "r5"), metrics={"t/m": 0.5}))
    ledger.record(ScoreOutcome(name="checkpoint-2", checkpoint="/c/2", step=2, status="failed",
                               run_dir=str(tmp_path / "r2"), error="boom"))
    again = Ledger(tmp_path / "ledger.json", "another-id")
    assert again.training_run_id == "run-a"  # the first id sticks
    assert [o.step for o in again.in_step_order()] == [2, 5]
    assert again.get("checkpoint-2").error == "boom"  # type: ignore[union-attr]


def test_callback_needs_tasks() -> None:
    with pytest.raises(ValueError, match="at least one task"):
        AutoScoreCallback(tasks=[])


def test_each_checkpoint_says_when_scoring_starts_and_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The child's own bars go to its log; the parent prints one line at the start and one at
    the end of each checkpoint, with the elapsed time and why it was not scored."""
    from eval_anything.trainers.autoscore.checkpoint_scoring import CheckpointScorer, ScoreSettings

    settings = ScoreSettings(tasks=["mini_amu"], push=False, cache_path=False)
    missing = tmp_path / "checkpoint-7"  # no weights: the child fails on a real input
    missing.mkdir()
    scorer = CheckpointScorer(settings, tmp_path / "runs", "run-a")
    outcome = scorer.score(missing, 7)
    assert outcome.status == "failed"
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "checkpoint-7" in ln]
    assert lines[0].startswith("scoring checkpoint-7 (step 7) on mini_amu")
    assert lines[1].startswith("checkpoint-7 (step 7) not scored after ")
    assert " s: " in lines[1] and "score.log" in lines[1]
    quiet = CheckpointScorer(settings, tmp_path / "runs2", "run-a", progress=False)
    quiet.score(missing, 7)
    assert not [ln for ln in capsys.readouterr().err.splitlines()
                if ln.startswith(("scoring checkpoint-7", "checkpoint-7 (step 7)"))]
