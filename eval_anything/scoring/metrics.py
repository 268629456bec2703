"""Metrics reduce one score's per-sample values to MetricValues; aggregators combine tasks of a
group. Formulas for SE/CI live in :mod:`eval_anything.stats.intervals`."""

from __future__ import annotations

from typing import Any

from eval_anything.registry import register
from eval_anything.scoring.base import MetricInput
from eval_anything.stats.intervals import MetricValue, mean_of_means, mean_with_ci


@register("metric", "mean")
def mean_metric(inp: MetricInput, **_: Any) -> dict[str, MetricValue]:
    """Mean of scored values with (clustered) SE and 95% CI."""
    values, clusters, _meta = inp.scored()
    return {inp.score: mean_with_ci(values, clusters)}


@register("metric", "mean_by")
def mean_by_metric(
    inp: MetricInput, field: str = "", all_name: str = "all", **_: Any
) -> dict[str, MetricValue]:
    """Mean per value of a metadata ``field`` (e.g. evaluation dimension), plus
    ``<score>/<all_name>`` = unweighted mean of those means (each dimension counts equally)."""
    values, clusters, meta = inp.scored()
    buckets: dict[str, tuple[list[float], list[str | None]]] = {}
    for v, c, m in zip(values, clusters, meta, strict=True):
        key = str(m.get(field, "unknown"))
        buckets.setdefault(key, ([], []))
        buckets[key][0].append(v)
        buckets[key][1].append(c)
    out = {f"{inp.score}/{k}": mean_with_ci(vs, cs) for k, (vs, cs) in sorted(buckets.items())}
    out[f"{inp.score}/{all_name}"] = mean_of_means(list(out.values()))
    return out


@register("aggregator", "mean")
def mean_aggregator(members: dict[str, MetricValue], **_: Any) -> dict[str, MetricValue]:
    """Unweighted mean of the members' primary metrics."""
    return {"mean": mean_of_means(list(members.values()))}
