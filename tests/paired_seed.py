"""Stores for the paired-rank tests: checkpoints of one training run on the same items, and a
hub model on the same task at two ``--limit`` values (two item sets)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval_anything.store import open_store, push
from eval_anything.store.synthetic import make_records, make_results, task_result_of, write_run

STEPS = (0, 10, 20, 30, 40)
TRAINING = "sft-7"
TASK = "sel"  # graded 0 / 0.5 / 1 per item: the bootstrap path
BINARY = "qa"  # 0/1 per item: the McNemar path


def _graded(step_index: int, improve: bool) -> list[float]:
    """24 graded items: the base scores 0.5 on most; an improving run lifts more items to 1 at
    each step (the last one by +0.25 on average, no item lower), a null run trades items."""
    base = [0.5] * 16 + [0.0] * 4 + [1.0] * 4
    if not improve:
        swaps = step_index % 2
        return base[swaps:] + base[:swaps]  # the same multiset of scores, rotated
    lifted = min(16, 3 * step_index + (4 if step_index == len(STEPS) - 1 else 0))
    return [1.0] * lifted + base[lifted:]


def _binary(step_index: int, improve: bool) -> list[float]:
    base = [1.0] * 8 + [0.0] * 16
    if not improve:  # odd steps: 2 items flipped each way
        return base if step_index % 2 == 0 else [0.0, 0.0] + [1.0] * 8 + [0.0] * 14
    right = 8 + 3 * step_index  # 20 of 24 at the last step, no item lost
    return [1.0] * right + [0.0] * (24 - right)


def push_run(store_root: Path, store: object, run_id: str, model: str,
             tasks: dict[str, Sequence[float]], minute: int, training: str | None = None,
             step: int | None = None, fingerprints: dict[str, str] | None = None) -> Path:
    records = {t: make_records(t, list(v)) for t, v in tasks.items()}
    results = make_results(
        run_id, {t: task_result_of(t, r, fingerprint=(fingerprints or {}).get(t))
                 for t, r in records.items()},
        model_name=model, training_run_id=training, step=step,
        created_at=f"2026-02-01T00:{minute:02d}:00+00:00")
    run_dir = write_run(store_root / run_id, results, records)
    push(run_dir, store=store)  # type: ignore[arg-type]
    return run_dir


def seed_training_store(root: Path, improve: bool = True) -> str:
    """Five checkpoints (steps 0-40) of ``sft-7`` on the same 24 items of ``sel`` and ``qa``;
    ``improve``: the last checkpoint is clearly better than the base on both, else no better.
    Plus a hub model on ``qa`` at 30 and at 10 items (fingerprints differ: two item sets)."""
    url = f"sqlite:///{root / 'paired.sqlite'}"
    with open_store(url) as store:
        for k, step in enumerate(STEPS):
            push_run(root, store, f"ckpt-{step:02d}", f"/runs/sft-7/checkpoint-{step}",
                     {TASK: _graded(k, improve), BINARY: _binary(k, improve)}, k,
                     training=TRAINING, step=step)
        for minute, limit in ((10, 30), (11, 10)):
            push_run(root, store, f"hub-limit{limit}", "org/hub-model",
                     {BINARY: [1.0, 0.0] * (limit // 2)}, minute,
                     fingerprints={BINARY: f"fp-limit-{limit}"})
    return url
