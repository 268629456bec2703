"""The child process that scores one checkpoint:
``python -m eval_anything.trainers.autoscore.score_worker RUN_DIR/score_job.json``.

It runs :func:`eval_anything.evaluate` with the checkpoint's lineage into the job's run dir,
adds the training data's overlap with each task when the training run left a report beside
its checkpoints (``overlap.json``, written by ``train``; ``watch`` finds it the same way), then
pushes the run to the leaderboard store when one exists. Any exception is written to
``score_error.json`` (type and message, for the ledger) and the process exits 1; the parent never
shares its fate.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from eval_anything.core.results import Lineage
from eval_anything.core.results_files import atomic_write_text
from eval_anything.trainers.autoscore.checkpoint_scoring import (
    ERROR_FILE,
    OUTCOME_FILE,
    WORKER_MODULE,
    ScoreJob,
    checkpoint_model_args,
)


def store_target(store: str | None) -> str | None:
    """The store to push to: the one given, the configured one, or the default file when it
    already exists. None means there is no store, and pushing is skipped."""
    import os

    try:
        from eval_anything.store.config import STORE_ENV, default_store_path, normalize_url
    except ImportError:
        return None
    if store:
        return normalize_url(store)
    if os.environ.get(STORE_ENV, "").strip():
        return normalize_url(os.environ[STORE_ENV])
    path = default_store_path()
    return normalize_url(str(path)) if path.exists() else None


def push_run(run_dir: Path, store: str | None) -> tuple[str | None, str | None]:
    """(stored run id, note); a push failure is a note, not a scoring failure."""
    try:
        from eval_anything.store import push
    except ImportError:
        return None, "the leaderboard store is not installed; not pushed"
    target = store_target(store)
    if target is None:
        return None, (
            "no store configured (autoscore.store, --store or EVAL_ANYTHING_STORE); not pushed"
        )
    try:
        return push(run_dir, target), None
    except Exception as e:  # noqa: BLE001 - the run is scored; the push is reported
        return None, f"push failed: {type(e).__name__}: {e}"


def attach_train_overlap(run_dir: Path, checkpoints_dir: Path) -> bool:
    """Copy each task's count from ``checkpoints_dir/overlap.json`` into the run's results
    (``TaskResult.train_overlap``); False when there is no report there."""
    from eval_anything.core.results_files import read_results, write_results
    from eval_anything.trainers.setup.train_overlap import read_training_overlap

    found = read_training_overlap(checkpoints_dir)
    if found is None:
        return False
    overlap, path = found
    results = read_results(run_dir)
    for task, result in results.tasks.items():
        result.train_overlap = overlap.summary(task, str(path))
    write_results(run_dir, results)
    return True


def run_job(job: ScoreJob) -> None:
    from eval_anything.run.runner import evaluate

    s = job.settings
    run_dir = Path(job.run_dir)
    evaluate(
        model=s.model,
        model_args=checkpoint_model_args(s, Path(job.checkpoint)),
        tasks=s.tasks,
        judges=s.judges,
        limit=s.limit,
        batch_size=s.batch_size,
        output_dir=run_dir,
        include_paths=s.include_paths,
        cache_path=s.cache_path,
        lineage=Lineage(
            training_run_id=job.training_run_id, step=job.step, checkpoint_path=job.checkpoint
        ),
        gen_overrides=s.gen_overrides,
        progress=False,
    )
    if job.step > 0:  # the base model (step 0) was not trained on the data
        attach_train_overlap(run_dir, Path(job.checkpoint).parent)
    pushed, note = push_run(run_dir, s.store) if s.push else (None, "push disabled")
    atomic_write_text(
        run_dir / OUTCOME_FILE, json.dumps({"pushed_run_id": pushed, "push_note": note})
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python -m {WORKER_MODULE} RUN_DIR/score_job.json")
        return 2
    job_file = Path(argv[0])
    job = ScoreJob.model_validate_json(job_file.read_text(encoding="utf-8"))
    try:
        run_job(job)
    except BaseException as e:  # noqa: BLE001 - everything is reported to the parent
        traceback.print_exc()
        msg = f"{type(e).__name__}: {e}".strip()
        atomic_write_text(job_file.parent / ERROR_FILE, json.dumps({"error": msg[:4000]}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
