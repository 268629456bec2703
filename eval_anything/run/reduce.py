"""Reduce sample records to task metrics, and task metrics to group metrics."""

from __future__ import annotations

from typing import Any

from eval_anything import registry
from eval_anything.core.results import GroupResult, SampleRecord, TaskResult
from eval_anything.scoring.base import MetricInput
from eval_anything.spec.catalog import Catalog
from eval_anything.spec.task import GroupSpec, MetricRef, TaskSpec
from eval_anything.stats.intervals import MetricValue


def score_names_of(records: list[SampleRecord]) -> list[str]:
    names: list[str] = []
    for r in records:
        for n in r.scores:
            if n not in names:
                names.append(n)
    return names


def task_metrics(
    spec: TaskSpec, records: list[SampleRecord]
) -> tuple[dict[str, MetricValue], dict[str, int]]:
    """Metrics of a task from its records; every score without a listed metric gets ``mean``."""
    names = score_names_of(records)
    refs: list[MetricRef] = list(spec.metrics)
    covered = {m.score for m in refs}
    refs += [MetricRef(name="mean", score=n) for n in names if n not in covered]
    metrics: dict[str, MetricValue] = {}
    for ref in refs:
        score = ref.score or (names[0] if names else "")
        inp = MetricInput(
            score=score,
            values=[r.score_value(score) for r in records],
            clusters=[r.cluster for r in records],
            metadata=[r.metadata for r in records],
        )
        fn = registry.metric(ref.name, where=f"{spec.file}: field 'metrics'")
        metrics.update(fn(inp, **ref.args))
    unscored = {n: sum(1 for r in records if r.score_value(n) is None) for n in names}
    return metrics, unscored



def group_metrics(
    name: str,
    members: list[str],
    group: GroupSpec | None,
    results: dict[str, TaskResult],
    groups_done: dict[str, GroupResult],
    specs: dict[str, TaskSpec],
) -> GroupResult | None:
    """Aggregate the members' primary metrics (a nested group contributes its first metric)."""
    primaries: dict[str, MetricValue] = {}
    for m in members:
        if m in results:
            spec = specs.get(m)
            key = results[m].primary(spec.primary_metric if spec else None)
            if key is not None:
                primaries[m] = results[m].metrics[key]
        elif m in groups_done and groups_done[m].metrics:
            primaries[m] = next(iter(groups_done[m].metrics.values()))
    if not primaries:
        return None
    agg = group.aggregate if group else None
    agg_name = agg.name if agg else "mean"
    args: dict[str, Any] = dict(agg.args) if agg else {}
    fn = registry.aggregator(agg_name, where=f"group {name}")
    metrics = fn(primaries, task_results=results, groups=groups_done, **args)
    return GroupResult(group=name, tasks=list(primaries), metrics=metrics, aggregation=agg_name)


def reduce_groups(
    groups: list[str],
    catalog: Catalog,
    task_results: dict[str, TaskResult],
    specs: dict[str, TaskSpec],
) -> dict[str, GroupResult]:
    """Every group's metrics, in ``groups`` order (a group listed after its nested groups)."""
    done: dict[str, GroupResult] = {}
    for g in groups:
        gr = group_metrics(
            g, catalog.group_members(g), catalog.groups.get(g), task_results, done, specs
        )
        if gr is not None:
            done[g] = gr
    return done
