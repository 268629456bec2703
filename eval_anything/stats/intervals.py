"""Standard errors and confidence intervals. Pure functions of numbers; every formula lives here
once, and the runner, gate, leaderboard and trainers call it.

Conventions: the standard error of a mean is the sample standard deviation (ddof=1) over sqrt(n);
with cluster keys it is the cluster-robust (CR1) estimate
``sqrt(C/(C-1) * sum_c (sum_{i in c} (x_i - mean))^2) / n``, which reduces to the plain SE when
every item is its own cluster (up to the small-sample factor). 95% intervals are normal
(``mean +- 1.96 SE``), as the CLT gives for the sample sizes benchmarks have.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field, field_validator

Z95 = 1.959963984540054


class MetricValue(BaseModel):
    """A metric with its uncertainty."""

    value: float = Field(description="Point estimate.")
    stderr: float | None = Field(default=None, description="Standard error (None when n < 2).")
    ci_low: float | None = Field(default=None, description="Lower bound of the 95% CI.")
    ci_high: float | None = Field(default=None, description="Upper bound of the 95% CI.")
    n: int = Field(default=0, description="Number of scored items behind the value.")
    clustered: bool = Field(default=False, description="Whether stderr is cluster-robust.")

    @field_validator("value", mode="before")
    @classmethod
    def _null_is_nan(cls, v: object) -> object:
        """A metric with no scored items is NaN, which JSON writes as null; read it back."""
        return float("nan") if v is None else v


def stderr_of_mean(values: Sequence[float]) -> float | None:
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    return float(x.std(ddof=1) / math.sqrt(x.size))


def clustered_stderr_of_mean(values: Sequence[float], clusters: Sequence[str]) -> float | None:
    """CR1 cluster-robust standard error of the mean."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return None
    resid = x - x.mean()
    sums: dict[str, float] = {}
    for r, c in zip(resid, clusters, strict=True):
        sums[c] = sums.get(c, 0.0) + float(r)
    n_clusters = len(sums)
    if n_clusters < 2:
        return None
    total = sum(s * s for s in sums.values())
    return math.sqrt(n_clusters / (n_clusters - 1) * total) / n


def mean_with_ci(
    values: Sequence[float], clusters: Sequence[str | None] | None = None
) -> MetricValue:
    """Mean of ``values`` with SE and 95% CI, clustered when any cluster key is given."""
    x = [float(v) for v in values]
    if not x:
        return MetricValue(value=float("nan"), n=0)
    mean = float(np.mean(x))
    use_clusters = clusters is not None and any(c is not None for c in clusters)
    if use_clusters:
        assert clusters is not None
        keys = [c if c is not None else f"__item{i}" for i, c in enumerate(clusters)]
        se = clustered_stderr_of_mean(x, keys)
    else:
        se = stderr_of_mean(x)
    return with_ci(mean, se, len(x), clustered=use_clusters)


def with_ci(value: float, se: float | None, n: int, clustered: bool = False) -> MetricValue:
    if se is None:
        return MetricValue(value=value, n=n, clustered=clustered)
    return MetricValue(
        value=value,
        stderr=se,
        ci_low=value - Z95 * se,
        ci_high=value + Z95 * se,
        n=n,
        clustered=clustered,
    )


def mean_of_means(parts: Sequence[MetricValue]) -> MetricValue:
    """Unweighted mean of independent estimates; SE = sqrt(sum SE^2) / k."""
    if not parts:
        return MetricValue(value=float("nan"))
    k = len(parts)
    value = sum(p.value for p in parts) / k
    if any(p.stderr is None for p in parts):
        return MetricValue(value=value, n=sum(p.n for p in parts))
    se = math.sqrt(sum((p.stderr or 0.0) ** 2 for p in parts)) / k
    return with_ci(value, se, sum(p.n for p in parts), clustered=any(p.clustered for p in parts))
