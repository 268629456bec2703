"""Scales of tasks' primary metrics, and the rule for averaging tasks across scales.

A task (or group) declares its primary metric's range and direction in its YAML (``scale:
{min, max, higher_is_better}``, :class:`~eval_anything.spec.task.ScaleSpec`). A mean over several
tasks is only meaningful on one scale, so :func:`mean_plan` decides, visibly:

- every task declares the same scale: the plain mean;
- every task declares a scale, and they differ: each value is normalized to 0-1 by its declared
  range (1 = the best end, so lower-is-better tasks are flipped) and the mean is of those;
- some task declares none: the mean is refused (nothing says how to put them on one scale).

The leaderboard's "mean of selected tasks" and any other cross-task average follow this plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from eval_anything.spec.task import ScaleSpec

PlanKind = Literal["same", "normalized", "refused"]


@dataclass(frozen=True)
class MeanPlan:
    """How a mean over ``tasks`` is taken, and the sentence that says so."""

    kind: PlanKind
    message: str
    scales: dict[str, ScaleSpec] = field(default_factory=dict)

    def transform(self, task: str, value: float, stderr: float | None) -> tuple[float,
                                                                             float | None]:
        """``(value, stderr)`` of ``task`` as the mean takes it (normalized or as is)."""
        if self.kind != "normalized":
            return value, stderr
        scale = self.scales[task]
        width = scale.max - scale.min
        return scale.normalize(value), None if stderr is None else stderr / width


def scales_of(catalog: Any) -> dict[str, ScaleSpec]:
    """Declared scales of every task and group in a catalog. A group without a declaration of
    its own takes its members' scale when they all share one (a ``mean`` of 0-1 tasks is 0-1)."""
    out: dict[str, ScaleSpec] = {
        name: spec.scale for name, spec in catalog.tasks.items() if spec.scale is not None
    }
    for name, gspec in catalog.groups.items():
        if gspec.scale is not None:
            out[name] = gspec.scale
    for name in catalog.names():
        if name in out or not catalog.is_group(name):
            continue
        members = {out.get(m) for m in catalog.group_members(name)}
        if len(members) == 1 and None not in members:
            scale = members.pop()
            assert scale is not None
            out[name] = scale
    return out


def mean_plan(tasks: Sequence[str], scales: dict[str, ScaleSpec]) -> MeanPlan:
    """The plan for a mean over ``tasks`` (see the module doc)."""
    tasks = list(dict.fromkeys(tasks))
    undeclared = [t for t in tasks if t not in scales]
    if len(tasks) <= 1:
        return MeanPlan("same", "", {t: scales[t] for t in tasks if t in scales})
    if undeclared:
        return MeanPlan(
            "refused",
            f"Mean refused: {', '.join(undeclared)} declare no scale, so nothing says how "
            "to put them on one scale with the other tasks. Rank on one task, select tasks of "
            "one declared scale, or declare `scale: {min, max, higher_is_better}` in the task "
            "YAML.",
        )
    chosen = {t: scales[t] for t in tasks}
    if len(set(chosen.values())) == 1:
        only = next(iter(chosen.values()))
        return MeanPlan("same", f"All selected tasks are on one scale ({only.label()}).", chosen)
    labels = ", ".join(f"{t} {s.label()}" for t, s in chosen.items())
    return MeanPlan(
        "normalized",
        f"Scales differ ({labels}): the mean is of each task's value normalized to 0-1 by its "
        "declared range (1 = best end), not of the raw values.",
        chosen,
    )
