"""The paired comparison of two runs on one task: the one place its difference, CI and tests are
computed, so the gate, the demo's summary, the leaderboard's Compare page, its difference column
and its paired ranks all show the same numbers for the same pair.

Items are paired by sample id; only items scored in both runs count. The scores are turned first
when the task's declared scale says lower is better (``paired.oriented``), so ``diff`` always
reads "positive = the candidate is better". Rules:

* Binary scores: CI = the normal interval of the paired (CR1-clustered when the records carry
  cluster keys) SE. Without clusters the regression test is ``max(McNemar exact, paired z)``
  and the two-sided test ``max(McNemar exact two-sided, paired z two-sided)``; with clusters
  the paired z alone (McNemar assumes independent items).
* Other scores: a seeded percentile bootstrap of the mean difference (whole clusters resampled
  when keyed) gives the CI; its shift-method replicates give both p-values.

``p_regression`` tests H0 "candidate >= baseline - margin" (the gate's one-sided test);
``p_two_sided`` tests H0 "no difference" (what a ranking asks: is either run better?).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field
from scipy import stats as sps

from eval_anything.core.results import SampleRecord
from eval_anything.stats.paired import (
    bootstrap_index_chunks,
    is_binary,
    mcnemar,
    normal_ci,
    normal_p_below,
    oriented,
    paired_bootstrap,
    paired_difference,
)

ItemScore = tuple[float | None, str | None]
"""One item's score in one run (None: unscored) and its cluster key."""

N_BOOT = 2000
SEED = 0


class RunPairComparison(BaseModel):
    """Candidate versus baseline on one task's shared items."""

    score: str = Field(description="Per-sample score compared (the task's primary score).")
    n_pairs: int = Field(description="Items scored in both runs.")
    n_only_baseline: int = 0
    n_only_candidate: int = 0
    n_unscored: int = Field(default=0, description="Matched items unscored in either run.")
    baseline_mean: float = math.nan
    candidate_mean: float = math.nan
    diff: float = Field(
        default=math.nan, description="Mean of candidate - baseline, turned so that positive is "
        "better (baseline - candidate for a lower-is-better task).",
    )
    higher_is_better: bool = Field(default=True, description="The task's declared direction.")
    stderr: float | None = None
    ci_low: float = -math.inf
    ci_high: float = math.inf
    clustered: bool = False
    n_clusters: int = 0
    method: str = ""
    regressions: int | None = Field(default=None, description="Binary: 1 -> 0 items.")
    improvements: int | None = Field(default=None, description="Binary: 0 -> 1 items.")
    p_regression: float = Field(default=1.0, description="One-sided p of H0 'candidate is not "
                                "worse than baseline - margin'.")
    p_two_sided: float = Field(default=1.0, description="Two-sided p of H0 'no difference'.")
    notes: list[str] = Field(default_factory=list)


def item_scores(records: Sequence[SampleRecord], score: str) -> dict[str, ItemScore]:
    """Sample id -> (value of ``score`` or None, cluster key) for one run's records of a task."""
    return {r.sample_id: (r.score_value(score), r.cluster) for r in records}


def compare_records(
    base_records: Sequence[SampleRecord],
    cand_records: Sequence[SampleRecord],
    score: str,
    higher_is_better: bool = True,
    margin: float = 0.0,
    alpha: float = 0.05,
    seed: int = SEED,
    n_boot: int = N_BOOT,
) -> RunPairComparison:
    """:func:`compare_runs` on two runs' sample records of the same task."""
    return compare_runs(item_scores(base_records, score), item_scores(cand_records, score), score,
                        higher_is_better, margin, alpha, seed, n_boot)


def compare_runs(
    base: Mapping[str, ItemScore],
    cand: Mapping[str, ItemScore],
    score: str,
    higher_is_better: bool = True,
    margin: float = 0.0,
    alpha: float = 0.05,
    seed: int = SEED,
    n_boot: int = N_BOOT,
) -> RunPairComparison:
    """Pair two runs' item scores by sample id and test the difference (module doc)."""
    common = sorted(base.keys() & cand.keys())
    base_vals: list[float] = []
    cand_vals: list[float] = []
    clusters: list[str | None] = []
    for sid in common:
        (bv, cluster), (cv, _) = base[sid], cand[sid]
        if bv is None or cv is None:
            continue
        base_vals.append(bv)
        cand_vals.append(cv)
        clusters.append(cluster)
    comp = RunPairComparison(
        score=score,
        n_pairs=len(base_vals),
        n_only_baseline=len(base.keys() - cand.keys()),
        n_only_candidate=len(cand.keys() - base.keys()),
        n_unscored=len(common) - len(base_vals),
        higher_is_better=higher_is_better,
    )
    if not base_vals:
        comp.notes.append("no item is scored in both runs")
        return comp
    comp.baseline_mean = sum(base_vals) / len(base_vals)
    comp.candidate_mean = sum(cand_vals) / len(cand_vals)
    if not higher_is_better:
        comp.notes.append("lower is better (declared scale): diff = baseline - candidate")
    base_vals, cand_vals = oriented(base_vals, cand_vals, higher_is_better)
    diff = paired_difference(base_vals, cand_vals, clusters)
    comp.diff, comp.stderr, comp.clustered = diff.mean, diff.stderr, diff.clustered
    comp.n_clusters = diff.n_clusters
    if is_binary(base_vals, cand_vals):
        comp.ci_low, comp.ci_high = normal_ci(diff.mean, diff.stderr, alpha)
        p_margin = normal_p_below(diff.mean, diff.stderr, -margin)
        p_zero = normal_p_two_sided(diff.mean, diff.stderr)
        mc = mcnemar(base_vals, cand_vals)
        comp.regressions, comp.improvements = mc.regressions, mc.improvements
        if diff.clustered:
            comp.method = "clustered paired z"
            comp.p_regression, comp.p_two_sided = p_margin, p_zero
        else:
            comp.method = "McNemar exact + paired z"
            comp.p_regression = max(mc.p_regression_exact, p_margin)
            comp.p_two_sided = max(mc.p_two_sided_exact, p_zero)
    else:
        boot = paired_bootstrap(base_vals, cand_vals, clusters, n_boot, alpha, seed)
        comp.method = "cluster bootstrap" if diff.clustered else "paired bootstrap"
        comp.ci_low, comp.ci_high = boot.ci_low, boot.ci_high
        comp.p_regression = boot.p_below(-margin)
        comp.p_two_sided = bootstrap_p_two_sided(boot.replicates, boot.mean)
    return comp


class AllPairs(BaseModel):
    """Every pair of a board's runs on one task's shared items at once: ``diff[i, j]`` is run j
    minus run i (oriented), ``stderr`` its paired SE, ``p_two_sided`` the two-sided p that
    :func:`compare_runs` gives that pair (same rule, same seeded resamples)."""

    model_config = {"arbitrary_types_allowed": True}

    diff: np.ndarray
    stderr: np.ndarray
    p_two_sided: np.ndarray


def compare_all_pairs(
    values: np.ndarray, higher_is_better: bool = True, seed: int = SEED, n_boot: int = N_BOOT
) -> AllPairs:
    """:func:`compare_runs`'s difference, SE and two-sided p for every pair of rows of
    ``values`` (runs x items: every item scored by every run, no clusters), vectorized so a
    board of 50 runs (1,225 pairs) costs one bootstrap per run instead of one per pair. The
    bootstrap's replicate of a pair is the difference of the two runs' replicate means under
    the same resampled indices, which is what :func:`compare_runs` draws for each pair."""
    v = np.asarray(values, dtype=float)
    binary_rows = np.all((v == 0.0) | (v == 1.0), axis=1)
    if not higher_is_better:
        v = np.where(binary_rows[:, None], 1.0 - v, -v)
    runs, k = v.shape
    means = v.mean(axis=1)
    diff = means[None, :] - means[:, None]
    squares = (v * v).sum(axis=1)
    sum_d2 = squares[None, :] + squares[:, None] - 2.0 * (v @ v.T)
    var = np.maximum(sum_d2 - k * diff**2, 0.0) / max(k - 1, 1)
    stderr = np.sqrt(var / k) if k >= 2 else np.full((runs, runs), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(diff) / stderr
    p_normal = np.where(stderr > 0, 2.0 * sps.norm.sf(z), np.where(diff == 0.0, 1.0, 0.0))
    if k < 2:
        p_normal = np.ones((runs, runs))
    b = v @ (1.0 - v).T  # binary pairs: i right, j wrong
    c = b.T
    n_disc = b + c
    p_mcnemar = np.where(n_disc > 0, np.minimum(
        1.0, 2.0 * sps.binom.cdf(np.minimum(b, c), np.maximum(n_disc, 1), 0.5)), 1.0)
    p = np.maximum(p_mcnemar, p_normal)
    graded = ~(binary_rows[:, None] & binary_rows[None, :])
    if graded.any():
        p = np.where(graded, _bootstrap_p(v, diff, seed, n_boot), p)
    np.fill_diagonal(p, 1.0)
    return AllPairs(diff=diff, stderr=stderr, p_two_sided=p)


def _bootstrap_p(v: np.ndarray, diff: np.ndarray, seed: int, n_boot: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    reps = np.empty((v.shape[0], n_boot), dtype=float)
    k = v.shape[1]
    for start, idx in bootstrap_index_chunks(rng, k, n_boot):
        # how often each item is drawn in each replicate, then every run's mean in one product
        rows = idx.shape[0]
        counts = np.bincount((idx + k * np.arange(rows)[:, None]).ravel(), minlength=rows * k)
        reps[:, start:start + rows] = v @ counts.reshape(rows, k).T / k
    out = np.ones_like(diff)
    for i in range(v.shape[0]):  # pairs (i, j) for every j at once: replicates of j minus i
        null = (reps - reps[i]) - diff[i][:, None]
        far = np.abs(null) >= np.abs(diff[i])[:, None] - 1e-12
        out[i] = np.minimum(1.0, (far.sum(axis=1) + 1) / (n_boot + 1))
    return out


def normal_p_two_sided(mean: float, stderr: float | None) -> float:
    """Two-sided p of H0 "true difference = 0" with a normal statistic; a zero SE is decided
    by the point estimate alone, an unknown one never rejects."""
    if stderr is None or not math.isfinite(stderr) or math.isnan(mean):
        return 1.0
    if stderr == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    return float(2.0 * sps.norm.sf(abs(mean) / stderr))


def bootstrap_p_two_sided(replicates: np.ndarray, mean: float) -> float:
    """Two-sided shift-method p of H0 "true difference = 0": the share of replicates, recentred
    on 0, at least as far from 0 as the observed mean (add-one smoothed, like ``p_below``)."""
    null = replicates - mean
    count = int(np.sum(np.abs(null) >= abs(mean) - 1e-12))
    return min(1.0, (count + 1) / (replicates.size + 1))


__all__ = [
    "AllPairs", "ItemScore", "RunPairComparison", "bootstrap_p_two_sided", "compare_all_pairs",
    "compare_records", "compare_runs", "item_scores", "normal_p_two_sided",
]
