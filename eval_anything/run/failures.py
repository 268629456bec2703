"""Errors are not answers, and not done.

An item *failed* when its model call failed for good (``metadata.error``) or a judge call failed
for good (a score unscored with a ``model error`` / ``judge model error`` reason). A failed item
is not done: a rerun into the same folder retries it, and only it. A run whose failures exceed
``--fail-on-error`` ends with exit code 3 and a summary on stderr (Inspect's convention: fail on
any error by default, or tolerate a count or a fraction).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eval_anything.errors import ItemsFailed, UserError

ERROR_PREFIXES = ("model error", "judge model error")
MAX_REASONS = 5
REASON_CHARS = 200


def failure_reason(record: Any) -> str | None:
    """Why ``record`` (a SampleRecord) failed, or None when it did not."""
    error = record.metadata.get("error")
    if error:
        return f"model error: {error}"
    for name, score in record.scores.items():
        reason = score.unscored_reason or ""
        if score.value is None and reason.startswith(ERROR_PREFIXES):
            return f"{name}: {reason}"
    return None


def failure_counts(records: list[Any]) -> tuple[int, dict[str, int]]:
    """Failed items and their most common reasons (shortened), for a TaskResult."""
    reasons = Counter(
        r[:REASON_CHARS] for r in (failure_reason(rec) for rec in records) if r is not None
    )
    return sum(reasons.values()), dict(reasons.most_common(MAX_REASONS))


@dataclass(frozen=True)
class FailPolicy:
    """How many failed items a run tolerates: ``count`` items, or a ``fraction`` of them."""

    count: int = 0
    fraction: float | None = None
    text: str = "0"

    def exceeded(self, failed: int, total: int) -> bool:
        if self.fraction is not None:
            return total > 0 and failed / total > self.fraction
        return failed > self.count


def parse_fail_on_error(text: str | None) -> FailPolicy:
    """``None`` (default: any failure fails), ``N`` items, ``0.x`` a fraction, or ``never``."""
    if text is None:
        return FailPolicy()
    t = text.strip().lower()
    if t in ("never", "off", "false", "no"):
        return FailPolicy(count=2**62, text="never")
    try:
        if t.isdigit():
            return FailPolicy(count=int(t), text=t)
        value = float(t)
    except ValueError:
        value = -1.0
    if 0 < value < 1:
        return FailPolicy(fraction=value, text=t)
    raise UserError(
        f"--fail-on-error {text!r}: give a count of items (0, 5), a fraction below 1 (0.05) "
        "or 'never'"
    )


@dataclass
class FailureSummary:
    """Failed items of a run, per task, with their reasons."""

    total: int = 0
    failed: int = 0
    by_task: dict[str, int] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    def message(self, what: str = "run") -> str:
        tasks = ", ".join(f"{t} {n}" for t, n in self.by_task.items() if n)
        why = "; ".join(f"{n} x {r}" for r, n in self.reasons.most_common(3))
        return (
            f"{self.failed} of {self.total} items failed after retries ({tasks}): {why}. "
            f"The {what} folder keeps them as failed, not scored; rerun the same command into "
            "it to retry only those items (or allow some with --fail-on-error N|FRACTION)"
        )


def summarize(results: Any) -> FailureSummary:
    """Failures recorded in a Results object (``n_failed`` per task)."""
    s = FailureSummary()
    for name, tr in results.tasks.items():
        s.total += tr.n
        s.failed += tr.n_failed
        s.by_task[name] = tr.n_failed
        s.reasons.update(tr.failure_reasons)
    return s


def check_failures(results: Any, policy: FailPolicy, what: str = "run") -> FailureSummary:
    """Raise :class:`ItemsFailed` (exit 3) when the failures exceed ``policy``."""
    summary = summarize(results)
    if summary.failed and policy.exceeded(summary.failed, summary.total):
        raise ItemsFailed(summary.message(what))
    return summary
