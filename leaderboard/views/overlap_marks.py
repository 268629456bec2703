"""The mark on a score whose task overlaps the checkpoint's training data ("⚠ overlap 3/24").

A checkpoint's results carry, per task, how many of the task's items its training data
contained (``TaskResult.train_overlap``, written by ``train``'s check). A board's row shows the
count for the board's task, or summed over the member tasks of a suite; runs that score no
training checkpoint are never looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from eval_anything.core.results import Results, TrainOverlap
from eval_anything.leaderboard import data

COLUMN = "overlap"
HELP = ("Items of this task found in the checkpoint's training data (train's overlap check; "
        "docs/training.md, 'Train and test kept apart')")


def overlap_of(results: Results, tasks: Iterable[str]) -> TrainOverlap | None:
    """The overlap over ``tasks`` in one run (summed), None when none of them was checked."""
    found = [r.train_overlap for t in tasks
             if (r := results.tasks.get(t)) is not None and r.train_overlap is not None]
    if not found:
        return None
    return TrainOverlap(flagged=sum(o.flagged for o in found), n=sum(o.n for o in found),
                        dropped_rows=sum(o.dropped_rows for o in found))


def board_tasks(board: str) -> list[str]:
    """The tasks a board's score covers: the task itself, or a suite's members."""
    return [board, *sorted(data.group_members().get(board, ()))]


def mark(url: str, run_id: str, training_run_id: object, tasks: list[str]) -> str:
    """``'⚠ overlap 3/24'`` for a run whose checkpoint trained on items of ``tasks``, else ''."""
    if training_run_id is None or pd.isna(training_run_id):  # type: ignore[call-overload]
        return ""
    overlap = overlap_of(data.results(url, run_id), tasks)
    return "" if overlap is None else overlap.label()


def with_overlap(url: str, table: pd.DataFrame, tasks: list[str],
                 training_column: str = "training run") -> pd.DataFrame:
    """``table`` (one row per ``run_id``) with an ``overlap`` column when any row overlaps."""
    if table.empty or training_column not in table.columns:
        return table
    marks = [mark(url, str(rid), trid, tasks)
             for rid, trid in zip(table["run_id"], table[training_column], strict=True)]
    if not any(marks):
        return table
    # beside the score it qualifies, so it is in view without scrolling the table sideways
    at = table.columns.get_loc("score") + 1 if "score" in table.columns else len(table.columns)
    out = table.copy()
    out.insert(int(at), COLUMN, marks)
    return out
