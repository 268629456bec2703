"""Paired statistics for comparing two runs on the same items.

Pure functions of numbers: the gate and the leaderboard's compare view call them; the SE
formulas themselves live in :mod:`eval_anything.stats.intervals` (the clustered CR1 estimate is
reused on the per-item differences, which is exactly the paired clustered SE).

Conventions: ``d_i = candidate_i - baseline_i``; a negative mean difference is a regression.
One-sided p-values here test "the candidate is worse" (small p = evidence of a regression).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from eval_anything.stats.intervals import clustered_stderr_of_mean, stderr_of_mean


@dataclass(frozen=True)
class PairedDifference:
    """Mean of per-item differences with its standard error."""

    mean: float
    stderr: float | None
    n: int
    clustered: bool
    n_clusters: int


def paired_difference(
    baseline: Sequence[float],
    candidate: Sequence[float],
    clusters: Sequence[str | None] | None = None,
) -> PairedDifference:
    """Mean of ``candidate - baseline`` with the paired SE (CR1-clustered when any cluster key is
    given; an item without a key is its own cluster). Pairing removes the between-item variance
    both runs share, which is why a paired test needs far fewer items than comparing two CIs."""
    d = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    n = int(d.size)
    if n == 0:
        return PairedDifference(float("nan"), None, 0, False, 0)
    keys = _cluster_keys(clusters, n)
    if keys is None:
        return PairedDifference(float(d.mean()), stderr_of_mean(d), n, False, n)
    se = clustered_stderr_of_mean(d, keys)
    return PairedDifference(float(d.mean()), se, n, True, len(set(keys)))


def _cluster_keys(clusters: Sequence[str | None] | None, n: int) -> list[str] | None:
    if clusters is None or all(c is None for c in clusters):
        return None
    if len(clusters) != n:
        raise ValueError(f"{len(clusters)} cluster keys for {n} items")
    return [c if c is not None else f"__item{i}" for i, c in enumerate(clusters)]


def is_binary(*columns: Sequence[float]) -> bool:
    """True when every value is 0 or 1 (accuracy-like scores, where McNemar applies)."""
    return all(all(v in (0.0, 1.0) for v in col) for col in columns)


def oriented(
    base: Sequence[float], cand: Sequence[float], higher_is_better: bool = True
) -> tuple[list[float], list[float]]:
    """Both columns turned so that higher is better: unchanged, or, for a task whose scale says
    lower is better (a loss, an error rate), ``1 - v`` for 0/1 scores (they stay binary, so
    McNemar still applies) and ``-v`` otherwise. Differences then read "positive = better"."""
    if higher_is_better:
        return list(base), list(cand)
    if is_binary(base, cand):
        return [1.0 - v for v in base], [1.0 - v for v in cand]
    return [-v for v in base], [-v for v in cand]


@dataclass(frozen=True)
class McNemarResult:
    """Discordant-pair counts and McNemar p-values.

    ``regressions`` (b): baseline right, candidate wrong. ``improvements`` (c): the reverse.
    """

    regressions: int
    improvements: int
    p_two_sided_exact: float
    p_regression_exact: float
    p_two_sided_asymptotic: float


def mcnemar(baseline: Sequence[float], candidate: Sequence[float]) -> McNemarResult:
    """McNemar's test on paired binary outcomes.

    Exact: under H0 each discordant pair is a fair coin, so b ~ Binomial(b + c, 1/2); the
    one-sided p for a regression is P(X >= b), the two-sided one doubles the smaller tail
    (capped at 1). Asymptotic: chi-square with one degree of freedom and the continuity
    correction, (|b - c| - 1)^2 / (b + c)."""
    base = np.asarray(baseline, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    b = int(np.sum((base == 1.0) & (cand == 0.0)))
    c = int(np.sum((base == 0.0) & (cand == 1.0)))
    return mcnemar_from_counts(b, c)


def mcnemar_from_counts(b: int, c: int) -> McNemarResult:
    n = b + c
    if n == 0:
        return McNemarResult(b, c, 1.0, 1.0, 1.0)
    low_tail = float(sps.binom.cdf(min(b, c), n, 0.5))
    two_sided = min(1.0, 2.0 * low_tail)
    p_regression = float(sps.binom.sf(b - 1, n, 0.5))  # P(X >= b)
    stat = max(abs(b - c) - 1, 0) ** 2 / n
    asymptotic = float(sps.chi2.sf(stat, 1))
    return McNemarResult(b, c, two_sided, p_regression, asymptotic)


@dataclass(frozen=True)
class BootstrapResult:
    """Paired bootstrap of the mean difference."""

    mean: float
    ci_low: float
    ci_high: float
    replicates: np.ndarray

    def p_below(self, threshold: float) -> float:
        """One-sided p for H0: true difference >= ``threshold`` (shift method: the replicates,
        recentred on ``threshold``, play the null distribution). Add-one smoothing keeps the
        p-value away from an impossible 0."""
        null = self.replicates - self.mean + threshold
        count = int(np.sum(null <= self.mean))
        return (count + 1) / (self.replicates.size + 1)


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    clusters: Sequence[str | None] | None = None,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> BootstrapResult:
    """Percentile bootstrap of the mean of ``candidate - baseline``, resampling items (or whole
    clusters, when keys are given, so within-cluster correlation is kept). Seeded: the same
    inputs always give the same interval."""
    d = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    if d.size == 0:
        raise ValueError("paired bootstrap needs at least one pair")
    rng = np.random.default_rng(seed)
    keys = _cluster_keys(clusters, int(d.size))
    if keys is None:
        sums, counts = d, np.ones_like(d)
    else:
        index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        codes = np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))
        sums = np.bincount(codes, weights=d)
        counts = np.bincount(codes).astype(float)
    reps = np.empty(n_boot, dtype=float)
    for start, idx in bootstrap_index_chunks(rng, sums.size, n_boot):
        reps[start:start + idx.shape[0]] = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(float(d.mean()), float(low), float(high), reps)


def bootstrap_index_chunks(
    rng: np.random.Generator, k: int, n_boot: int
) -> Iterator[tuple[int, np.ndarray]]:
    """The resampled index rows of a bootstrap over ``k`` units, in chunks (first replicate,
    indices) that bound memory to ~32 MB at once. One generator for every bootstrap of paired
    runs, so one seed gives the same resamples to a single pair and to a whole board's pairs."""
    chunk = max(1, 4_000_000 // max(k, 1))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        yield start, rng.integers(0, k, size=(stop - start, k))


def normal_p_below(mean: float, stderr: float | None, threshold: float) -> float:
    """One-sided p for H0: true difference >= ``threshold`` with a normal statistic. A zero SE
    (every pair identical) is decided by the point estimate alone."""
    if stderr is None or not math.isfinite(stderr):
        return 1.0
    if stderr == 0.0:
        return 0.0 if mean < threshold else 1.0
    return float(sps.norm.cdf((mean - threshold) / stderr))


def normal_ci(mean: float, stderr: float | None, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided (1 - alpha) normal interval; unbounded when the SE is unknown (n < 2)."""
    if stderr is None:
        return (-math.inf, math.inf)
    z = float(sps.norm.ppf(1 - alpha / 2))
    return (mean - z * stderr, mean + z * stderr)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (same order as given): sort ascending, multiply the
    j-th smallest by (m - j + 1), carry the running maximum, cap at 1. Rejecting where the
    adjusted p < alpha controls the family-wise error rate at alpha."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
