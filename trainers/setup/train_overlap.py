"""Train and test kept apart, inside ``train``: before the first step, the training data is
checked against every task its checkpoints will be scored on.

The check runs only when auto-scoring tasks are configured (they are what "test" means for a
training run). Its report is written beside the checkpoints as ``OUT/overlap.json`` (atomic),
one line per task goes to stderr, and the score worker copies each task's count into the
checkpoint's ``results.json`` (``TaskResult.train_overlap``), so the leaderboard and the gate
see it. With ``data.exclude_overlap`` (``--exclude-overlap``) the rows that contain an item of
a task are left out of training instead, and the report says which.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from pathlib import Path

from pydantic import Field

from eval_anything.core.results import TrainOverlap
from eval_anything.core.results_files import atomic_write_text
from eval_anything.overlap.report import OverlapReport
from eval_anything.trainers.config import TrainConfig

#: the report's file in the training output folder (next to the checkpoints)
OVERLAP_FILE = "overlap.json"


class TrainingOverlap(OverlapReport):
    """The overlap report of a training run, plus what ``exclude_overlap`` dropped. It reads
    as a plain :class:`OverlapReport` too (the extra fields are ignored there)."""

    exclude_overlap: bool = Field(
        default=False, description="Whether the overlapping rows were left out of training.")
    overlapping_rows: list[int] = Field(
        default_factory=list,
        description="0-based rows of the training file (after data.limit) that contain an item "
        "of some task; these are the rows dropped when exclude_overlap is set.")
    rows_by_task: dict[str, int] = Field(
        default_factory=dict, description="Per task: how many training rows contain its items.")

    def summary(self, task: str, report_path: str | None) -> TrainOverlap | None:
        """What a checkpoint's results carry for ``task`` (None: the task was not checked)."""
        t = self.tasks.get(task)
        if t is None:
            return None
        dropped = self.rows_by_task.get(task, 0) if self.exclude_overlap else 0
        return TrainOverlap(
            flagged=0 if self.exclude_overlap else len(t.flagged), n=t.n,
            dropped_rows=dropped, report=report_path)


def check_training_overlap(cfg: TrainConfig) -> TrainingOverlap | None:
    """The training data of ``cfg`` against its auto-score tasks (None when none are set).
    Writes nothing; the tasks were checked to exist (``check_autoscore``) before."""
    if not cfg.autoscore.tasks or cfg.data is None:
        return None
    from eval_anything.overlap.check import DEFAULT_NGRAM, check_samples, load_task_samples
    from eval_anything.overlap.index import Hits
    from eval_anything.overlap.train_rows import iter_train_rows
    from eval_anything.spec.catalog import LM_EVAL_PREFIX, load_catalog

    catalog = load_catalog(cfg.autoscore.include_paths)
    names, _ = catalog.expand(cfg.autoscore.tasks)
    # lm-eval tasks keep their items inside lm-eval, where this check cannot read them
    specs = [catalog.tasks[t] for t in names if not t.startswith(LM_EVAL_PREFIX)]
    if not specs:
        return None
    samples = load_task_samples(specs, cfg.autoscore.limit)
    media_root = Path(cfg.data.media_root) if cfg.data.media_root else None
    rows = iter_train_rows([cfg.data.train], media_root)
    if cfg.data.limit is not None:
        rows = itertools.islice(rows, cfg.data.limit)
    hits = Hits()
    report = check_samples(rows, samples, DEFAULT_NGRAM, [cfg.data.train], hits)
    by_task: dict[str, set[int]] = defaultdict(set)
    for (task, _item), _file, row in hits.seen:
        by_task[task].add(row)
    every = sorted(set().union(*by_task.values())) if by_task else []
    return TrainingOverlap(
        **report.model_dump(), exclude_overlap=cfg.data.exclude_overlap,
        overlapping_rows=every, rows_by_task={t: len(by_task.get(t, ())) for t in report.tasks})


def without_overlap(cfg: TrainConfig, overlap: TrainingOverlap | None) -> TrainConfig:
    """``cfg`` whose data loading leaves out the overlapping rows, when it asks for that."""
    if overlap is None or not overlap.exclude_overlap or cfg.data is None:
        return cfg
    data = cfg.data.model_copy()
    data._skip_rows = frozenset(overlap.overlapping_rows)
    return cfg.model_copy(update={"data": data})


def write_training_overlap(cfg: TrainConfig, overlap: TrainingOverlap) -> Path:
    """``OUT/overlap.json`` (atomic) and the lines on stderr that point to it."""
    path = cfg.output_dir / OVERLAP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, overlap.model_dump_json(indent=2))
    for task, t in overlap.tasks.items():
        print(f"overlap: {len(t.flagged)} of {t.n} items of {task} appear in the training data "
              f"(see {path})", file=sys.stderr, flush=True)
        if overlap.exclude_overlap:
            print(f"overlap: dropped {overlap.rows_by_task.get(task, 0)} training rows that "
                  f"contain items of {task}", file=sys.stderr, flush=True)
    return path


def read_training_overlap(folder: Path) -> tuple[TrainingOverlap, Path] | None:
    """The report beside the checkpoints in ``folder`` (None when there is none)."""
    path = Path(folder) / OVERLAP_FILE
    if not path.is_file():
        return None
    return TrainingOverlap.model_validate_json(path.read_text(encoding="utf-8")), path
