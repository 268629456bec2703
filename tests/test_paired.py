"""Paired statistics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval_anything.stats.paired import (
    holm,
    is_binary,
    mcnemar,
    mcnemar_from_counts,
    normal_ci,
    normal_p_below,
    paired_bootstrap,
    paired_difference,
)


def test_mcnemar_exact_and_asymptotic_match_hand_computation() -> None:
    # b = 10 items went right -> wrong, c = 3 wrong -> right.
    base = [1.0] * 10 + [0.0] * 3 + [1.0] * 20 + [0.0] * 7
    cand = [0.0] * 10 + [1.0] * 3 + [1.0] * 20 + [0.0] * 7
    res = mcnemar(base, cand)
    assert (res.regressions, res.improvements) == (10, 3)
    # P(X <= 3), X ~ Bin(13, 1/2) = (1 + 13 + 78 + 286) / 2^13 = 378 / 8192
    assert res.p_regression_exact == pytest.approx(378 / 8192, rel=1e-12)
    assert res.p_two_sided_exact == pytest.approx(756 / 8192, rel=1e-12)
    # continuity-corrected chi-square: (|10 - 3| - 1)^2 / 13 = 36 / 13,
    # and P(chi2_1 > x) = erfc(sqrt(x / 2))
    assert res.p_two_sided_asymptotic == pytest.approx(math.erfc(math.sqrt(36 / 13 / 2)), rel=1e-9)


def test_mcnemar_without_discordant_pairs_is_no_evidence() -> None:
    res = mcnemar_from_counts(0, 0)
    assert res.p_regression_exact == 1.0 and res.p_two_sided_exact == 1.0


def test_mcnemar_one_sided_counts_regressions_not_improvements() -> None:
    assert mcnemar_from_counts(0, 12).p_regression_exact == 1.0
    assert mcnemar_from_counts(12, 0).p_regression_exact == pytest.approx(0.5**12)


def test_paired_se_plain_and_clustered_match_hand_computation() -> None:
    base = [1, 0, 1, 0, 1, 0]
    cand = [0, 0, 0, 1, 1, 0]  # d = [-1, 0, -1, 1, 0, 0], mean -1/6
    plain = paired_difference(base, cand)
    assert plain.mean == pytest.approx(-1 / 6)
    # sum of squared residuals = 102/36; sample variance = 102/36/5; SE = sqrt(var / 6)
    assert plain.stderr == pytest.approx(math.sqrt(102 / 36 / 5 / 6))
    assert not plain.clustered
    clustered = paired_difference(base, cand, ["a", "a", "b", "b", "c", "c"])
    # cluster residual sums -4/6, 2/6, 2/6 -> sum of squares 2/3; CR1: sqrt(3/2 * 2/3) / 6
    assert clustered.stderr == pytest.approx(1 / 6)
    assert clustered.clustered and clustered.n_clusters == 3


def test_items_without_cluster_key_are_their_own_clusters() -> None:
    base, cand = [1, 0, 1, 0], [0, 0, 1, 1]
    mixed = paired_difference(base, cand, ["a", "a", None, None])
    explicit = paired_difference(base, cand, ["a", "a", "x", "y"])
    assert mixed.stderr == pytest.approx(explicit.stderr)


def test_holm_step_down_adjustment() -> None:
    # sorted: 0.01*4 = 0.04; 0.03*3 = 0.09; 0.04*2 = 0.08 -> running max 0.09; 0.5*1
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.6, 0.6]) == [1.0, 1.0]
    assert holm([]) == []


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 200)
    cand = base + rng.normal(-0.05, 0.1, 200)
    one = paired_bootstrap(base, cand, seed=7)
    two = paired_bootstrap(base, cand, seed=7)
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)
    assert one.ci_low < one.mean < one.ci_high
    # the interval is about mean +- 1.96 SE
    se = paired_difference(base, cand).stderr
    assert one.ci_high - one.ci_low == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert one.p_below(0.0) < 0.01  # a clear drop
    assert one.p_below(-0.2) > 0.99  # but not one of 0.2


def test_cluster_bootstrap_resamples_whole_clusters() -> None:
    # within each cluster the difference is constant: a cluster bootstrap of 2 clusters can
    # only produce the two cluster means and their average
    base = [0.0] * 6
    cand = [0.1, 0.1, 0.1, 0.3, 0.3, 0.3]
    boot = paired_bootstrap(base, cand, ["a"] * 3 + ["b"] * 3, n_boot=500, seed=0)
    assert set(np.round(boot.replicates, 9)) <= {0.1, 0.2, 0.3}


def test_identical_runs_have_a_degenerate_interval_at_zero() -> None:
    vals = [0.2, 0.5, 0.9]
    boot = paired_bootstrap(vals, vals)
    assert boot.ci_low == boot.ci_high == 0.0
    assert paired_difference(vals, vals).stderr == 0.0


def test_normal_helpers() -> None:
    assert normal_p_below(-0.05, 0.0, -0.01) == 0.0
    assert normal_p_below(0.0, 0.0, -0.01) == 1.0
    assert normal_p_below(0.0, None, -0.01) == 1.0
    assert normal_p_below(-0.01, 0.01, -0.01) == pytest.approx(0.5)
    low, high = normal_ci(0.0, 1.0, 0.05)
    assert (low, high) == pytest.approx((-1.959964, 1.959964))
    assert normal_ci(0.0, None) == (-math.inf, math.inf)


def test_is_binary() -> None:
    assert is_binary([0.0, 1.0], [1, 1])
    assert not is_binary([0.0, 0.5], [1, 1])
