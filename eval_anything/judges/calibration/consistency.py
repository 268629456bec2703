"""A judged task's agreement within itself, from its sample log alone: the members of a judge
panel with each other, and the repeats of a sampling judge with each other.

A panel or repeats judge keeps every verdict in the score record's ``details`` (``panel`` or
``repeats``, with the verdicts' ``level``; :mod:`eval_anything.judges.panel`). Here they become a
raters x items table and Krippendorff's alpha at that level (interval for ratings, nominal for
choices) with a bootstrap interval over items, from :mod:`eval_anything.stats.agreement`. For
repeats also the within-item spread: the mean, over items, of the sample standard deviation of
the item's repeated verdicts (items with fewer than two verdicts left out).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eval_anything.core.results import JudgeAgreement, SampleRecord

if TYPE_CHECKING:
    from eval_anything.stats.agreement import Figure

FIELDS = ("panel", "repeats")
RESAMPLES = 500  # per alpha: a run's agreement costs well under a second on a few hundred items


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def _verdict_rows(records: Sequence[SampleRecord], score: str, field: str
                  ) -> tuple[list[list[float | None]], str, str | None]:
    """The raters x items table of one score's verdicts, its level, and the judge's identity."""
    columns: list[list[float | None]] = []
    levels: list[str] = []
    judge: str | None = None
    for r in records:
        rec = r.scores.get(score)
        entries = None if rec is None else rec.details.get(field)
        if not isinstance(entries, list) or rec is None:
            continue
        columns.append([e.get("value") for e in entries])
        levels.append(str(rec.details.get("level", "interval")))
        judge = judge or rec.judge
    width = max((len(c) for c in columns), default=0)
    rows = [[c[k] if k < len(c) else None for c in columns] for k in range(width)]
    level = max(set(levels), key=levels.count) if levels else "interval"
    return rows, level, judge


def _alpha(rows: list[list[float | None]], level: str) -> Figure | None:
    pairable = sum(1 for col in zip(*rows, strict=True)
                   if sum(v is not None for v in col) >= 2)
    if len(rows) < 2 or pairable == 0:
        return None
    from eval_anything.stats import agreement as stats  # scipy, sklearn: only when needed

    lvl: stats.Level = "nominal" if level == "nominal" else "interval"
    try:
        return stats.krippendorff_alpha_figure(rows, lvl, resamples=RESAMPLES)
    except ValueError:  # one distinct value in the whole table: alpha undefined
        return None


def _within_item_sd(rows: list[list[float | None]]) -> float | None:
    sds = []
    for col in zip(*rows, strict=True):
        vals = [float(v) for v in col if v is not None]
        if len(vals) >= 2:
            sds.append(statistics.stdev(vals))
    return statistics.fmean(sds) if sds else None


def internal_agreement(records: Sequence[SampleRecord]) -> list[JudgeAgreement]:
    """One :class:`JudgeAgreement` per score (and per source: panel, repeats) whose records
    keep several verdicts per item; empty for a task judged once per item."""
    names: list[str] = []
    for r in records:
        names += [n for n in r.scores if n not in names]
    out: list[JudgeAgreement] = []
    for score in names:
        for field in FIELDS:
            rows, level, judge = _verdict_rows(records, score, field)
            if not rows:
                continue
            fig = _alpha(rows, level)
            n = sum(1 for col in zip(*rows, strict=True) if sum(v is not None for v in col) >= 2)
            extra: dict[str, Any] = {}
            if field == "repeats":
                extra["within_item_sd"] = _finite(_within_item_sd(rows))
            out.append(JudgeAgreement(
                score=score, source=field, judge=judge, statistic="krippendorff_alpha",
                value=None if fig is None else _finite(fig.value),
                ci_low=None if fig is None else _finite(fig.ci_low),
                ci_high=None if fig is None else _finite(fig.ci_high),
                level=level, n=n, raters=len(rows), **extra,
            ))
    return out
