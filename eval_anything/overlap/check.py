"""The overlap check end to end: tasks' items indexed, training rows streamed against them,
the report built. One call for the CLI and, later, for ``train`` before its first step."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from eval_anything.core.sample import Sample
from eval_anything.overlap.index import EvalIndex, Hits
from eval_anything.overlap.report import FlaggedItem, OverlapReport, TaskOverlap, TrainRowRef
from eval_anything.overlap.train_rows import TrainRow, iter_train_rows
from eval_anything.spec.task import TaskSpec

DEFAULT_NGRAM = 13
#: training rows matched per numpy batch: large enough to amortize numpy's per-call cost,
#: small enough that a batch's word arrays stay a few tens of MB
BATCH_ROWS = 4096


def check_overlap(
    train_paths: Sequence[str | Path],
    tasks: Sequence[TaskSpec] | Mapping[str, Sequence[Sample]],
    ngram: int = DEFAULT_NGRAM,
    media_root: Path | None = None,
    limit: int | None = None,
) -> OverlapReport:
    """Which items of ``tasks`` the training data at ``train_paths`` contains.

    ``tasks`` are task specs (their items loaded with ``limit``, as a run loads them) or
    already-loaded samples by task name. ``media_root`` is where relative media paths of the
    training rows resolve (default: each file's folder, as ``data.media_root`` in training).
    """
    samples = tasks if isinstance(tasks, Mapping) else load_task_samples(tasks, limit)
    return check_samples(iter_train_rows(train_paths, media_root), samples, ngram,
                         [str(p) for p in train_paths])


def load_task_samples(specs: Iterable[TaskSpec], limit: int | None = None
                      ) -> dict[str, list[Sample]]:
    from eval_anything.spec.sources import load_samples

    return {spec.task: load_samples(spec, limit) for spec in specs}


def check_samples(
    rows: Iterable[TrainRow], samples: Mapping[str, Sequence[Sample]], ngram: int,
    train_files: list[str], hits: Hits | None = None,
) -> OverlapReport:
    """The report for training ``rows`` (streamed in batches) against ``samples``. A caller
    that needs every matching row (``train --exclude-overlap``) passes its own ``hits``: its
    ``seen`` holds each (item, file, row), where the report names only the first few."""
    index = EvalIndex(samples, ngram)
    hits = Hits() if hits is None else hits
    batch: list[TrainRow] = []
    n_rows = 0
    for tr in rows:
        batch.append(tr)
        n_rows += 1
        if len(batch) >= BATCH_ROWS:
            index.match(batch, hits)
            batch = []
    if batch:
        index.match(batch, hits)
    tasks = {}
    for task, items in samples.items():
        flagged = [
            FlaggedItem(
                sample_id=s.id, reason=hits.strongest((task, i)),  # type: ignore[arg-type]
                train_rows=[TrainRowRef(file=f, row=r, reason=why)  # type: ignore[arg-type]
                            for f, r, why in hits.rows[(task, i)]],
                n_train_rows=hits.count[(task, i)],
            )
            for i, s in enumerate(items) if (task, i) in hits.reasons
        ]
        tasks[task] = TaskOverlap(n=len(items), flagged=flagged)
    return OverlapReport(ngram=ngram, train_files=train_files, train_rows=n_rows, tasks=tasks)
