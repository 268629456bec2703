"""Agreement between a judge and people (or between judges): pure functions of paired values.

Every statistic is a library's: Spearman's rho and Kendall's tau-b from scipy, Cohen's kappa
(unweighted and quadratic-weighted) and accuracy from scikit-learn, Krippendorff's alpha from the
``krippendorff`` package. This module only pairs them with intervals and says which values they
are computed on.

Intervals: a 95% bootstrap interval over items, from ``scipy.stats.bootstrap`` with
``paired=True`` (an item's judge and human values are resampled together), the BCa method and a
seeded generator, so the same pairs and seed give the same interval. Where BCa is undefined (a
degenerate sample: every resample gives the same value, or some resamples leave a correlation or
a kappa undefined, e.g. a resample where every human label is the same) the interval is the
percentile interval of the resamples where the statistic is defined. A figure that is undefined
on the sample itself (a correlation of a constant column) has value and interval ``None``.

Inputs:

- ratings: two float arrays (judge, human). ``kappa_quadratic``, ``exact`` and ``within_1`` are
  defined on integer ratings: the judge's value is rounded to the nearest integer first (numpy's
  ``rint``, halves to even), because a judge in likelihood mode gives an expected rating such as
  6.37; they are ``None`` when a human label is not an integer. The kappa's categories are every
  integer of the scale (passed in), so its quadratic weights are distances on the scale itself.
- choices (pairwise preferences A/B/tie, binary 0/1): two integer arrays of category codes.
- preferences asked in both orders: the judge's verdict in each order, mapped to the same codes
  (which *response* it preferred, not which position), and the annotators' choice.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import krippendorff
import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats as sps
from sklearn.metrics import accuracy_score, cohen_kappa_score

CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
RATING_FIGURES = ("spearman", "kendall_tau_b", "kappa_quadratic", "exact", "within_1",
                  "mean_bias")


class Figure(BaseModel):
    """One agreement figure with its 95% bootstrap interval; ``None`` where undefined."""

    model_config = ConfigDict(frozen=True)

    value: float | None = Field(description="The figure on all paired items.")
    ci_low: float | None = Field(default=None, description="Lower end of the 95% interval.")
    ci_high: float | None = Field(default=None, description="Upper end of the 95% interval.")


def _finite(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------- point statistics


def spearman(judge: ArrayLike, human: ArrayLike) -> float:
    """Spearman's rho (scipy), NaN when a column is constant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant column or one item: NaN, said as None
        return float(sps.spearmanr(judge, human).statistic)


def kendall_tau_b(judge: ArrayLike, human: ArrayLike) -> float:
    """Kendall's tau-b (scipy's default variant, which corrects for ties on both sides)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant column or one item: NaN, said as None
        return float(sps.kendalltau(judge, human, variant="b").statistic)


def integer_ratings(values: ArrayLike) -> np.ndarray:
    """Ratings rounded to the nearest integer (halves to even), as ints."""
    return np.rint(np.asarray(values, dtype=float)).astype(int)


def rating_categories(low: float, high: float) -> list[int]:
    """Every integer of a scale ``low``-``high`` (the kappa's categories)."""
    return list(range(math.ceil(low), math.floor(high) + 1))


def kappa_quadratic(judge: ArrayLike, human: ArrayLike,
                    categories: Sequence[int]) -> float:
    """Quadratic-weighted Cohen's kappa (scikit-learn) on integer ratings, the judge's rounded;
    ``categories`` are consecutive integers, so the weights are squared scale distances."""
    return float(cohen_kappa_score(integer_ratings(judge), integer_ratings(human),
                                   labels=list(categories), weights="quadratic",
                                   replace_undefined_by=np.nan))


def kappa(judge: ArrayLike, human: ArrayLike, categories: Sequence[int]) -> float:
    """Unweighted Cohen's kappa (scikit-learn) on category codes."""
    return float(cohen_kappa_score(np.asarray(judge), np.asarray(human), labels=list(categories),
                                   replace_undefined_by=np.nan))


def accuracy(judge: ArrayLike, human: ArrayLike) -> float:
    """Share of items where the judge's category is the human's (scikit-learn)."""
    return float(accuracy_score(np.asarray(human), np.asarray(judge)))


# Shares and means of per-item values, vectorized over bootstrap resamples (``axis``): each is a
# plain mean, so the resampling stays fast; the point values equal scikit-learn's and numpy's.


def _exact(judge: np.ndarray, human: np.ndarray, axis: int = -1) -> Any:
    return np.mean(np.rint(judge) == np.rint(human), axis=axis)


def _within_1(judge: np.ndarray, human: np.ndarray, axis: int = -1) -> Any:
    return np.mean(np.abs(np.rint(judge) - np.rint(human)) <= 1, axis=axis)


def _mean_bias(judge: np.ndarray, human: np.ndarray, axis: int = -1) -> Any:
    return np.mean(judge - human, axis=axis)


def _same(judge: np.ndarray, human: np.ndarray, axis: int = -1) -> Any:
    return np.mean(judge == human, axis=axis)


def _spearman_batched(judge: np.ndarray, human: np.ndarray, axis: int = -1) -> Any:
    """Spearman's rho as scipy defines it (Pearson's r of average ranks), for a batch of
    resamples at once: ``rankdata`` and ``pearsonr`` along ``axis`` (NaN below two items, as
    in a jackknife sample of two)."""
    if judge.shape[axis] < 2:
        return np.full(np.delete(judge.shape, axis), np.nan)
    rj = sps.rankdata(judge, axis=axis)
    rh = sps.rankdata(human, axis=axis)
    return sps.pearsonr(rj, rh, axis=axis).statistic


def exact(judge: ArrayLike, human: ArrayLike) -> float:
    """Share of items with the same integer rating (the judge's rounded)."""
    return float(_exact(np.asarray(judge, float), np.asarray(human, float)))


def within_1(judge: ArrayLike, human: ArrayLike) -> float:
    """Share of items whose integer ratings differ by at most one point."""
    return float(_within_1(np.asarray(judge, float), np.asarray(human, float)))


def mean_bias(judge: ArrayLike, human: ArrayLike) -> float:
    """Mean of judge minus human: positive when the judge rates higher than people."""
    return float(_mean_bias(np.asarray(judge, float), np.asarray(human, float)))


# ---------------------------------------------------------------------- intervals


def bootstrap_figure(
    statistic: Callable[..., Any], columns: Sequence[np.ndarray], *, value: float,
    vectorized: bool, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
) -> Figure:
    """``value`` (the statistic on all items) with its paired BCa bootstrap interval over items
    (see the module doc for the fallback where BCa is undefined)."""
    point = _finite(value)
    if point is None:
        return Figure(value=None)
    if len(columns[0]) < 2 or resamples < 1:
        return Figure(value=point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined resamples are expected; handled below
        res = sps.bootstrap(
            tuple(columns), statistic, paired=True, vectorized=vectorized,
            n_resamples=resamples, confidence_level=CONFIDENCE, method="BCa",
            rng=np.random.default_rng(seed),
        )
    low, high = _finite(res.confidence_interval.low), _finite(res.confidence_interval.high)
    if low is None or high is None:
        dist = np.asarray(res.bootstrap_distribution, dtype=float)
        dist = dist[np.isfinite(dist)]
        if dist.size == 0:
            return Figure(value=point)
        tail = (1 - CONFIDENCE) / 2 * 100
        low, high = (float(q) for q in np.percentile(dist, [tail, 100 - tail]))
    return Figure(value=point, ci_low=low, ci_high=high)


def _unvectorized(fn: Callable[..., float]) -> Callable[..., float]:
    return lambda *cols: fn(*cols)


def rating_agreement(
    judge: ArrayLike, human: ArrayLike, *, categories: Sequence[int] | None = None,
    resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
) -> dict[str, Figure]:
    """The rating figures (:data:`RATING_FIGURES`) of paired judge and human ratings.

    ``categories``: the integers of the scale for the quadratic kappa (default: every integer
    from the lowest to the highest rating seen)."""
    j, h = np.asarray(judge, dtype=float), np.asarray(human, dtype=float)
    if j.size == 0:
        return {name: Figure(value=None) for name in RATING_FIGURES}
    cols = (j, h)
    kw: dict[str, Any] = {"resamples": resamples, "seed": seed}
    out = {
        "spearman": bootstrap_figure(_spearman_batched, cols, value=spearman(j, h),
                                     vectorized=True, **kw),
        "kendall_tau_b": bootstrap_figure(_unvectorized(kendall_tau_b), cols,
                                          value=kendall_tau_b(j, h), vectorized=False, **kw),
    }
    if np.all(h == np.rint(h)):
        if categories is None:
            both = np.concatenate([integer_ratings(j), integer_ratings(h)])
            categories = rating_categories(float(both.min()), float(both.max()))
        cats = list(categories)
        out["kappa_quadratic"] = bootstrap_figure(
            lambda a, b: kappa_quadratic(a, b, cats), cols,
            value=kappa_quadratic(j, h, cats), vectorized=False, **kw)
        out["exact"] = bootstrap_figure(_exact, cols, value=exact(j, h), vectorized=True, **kw)
        out["within_1"] = bootstrap_figure(_within_1, cols, value=within_1(j, h),
                                           vectorized=True, **kw)
    else:
        out.update({k: Figure(value=None) for k in ("kappa_quadratic", "exact", "within_1")})
    out["mean_bias"] = bootstrap_figure(_mean_bias, cols, value=mean_bias(j, h),
                                        vectorized=True, **kw)
    return {name: out[name] for name in RATING_FIGURES}


def choice_agreement(
    judge: ArrayLike, human: ArrayLike, *, categories: Sequence[int],
    tie: int | None = None, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
) -> dict[str, Figure]:
    """``accuracy`` and ``kappa`` of paired category codes, and ``tie_rate`` (the share of the
    judge's verdicts that are ``tie``) when the categories include a tie."""
    j, h = np.asarray(judge, dtype=int), np.asarray(human, dtype=int)
    kw: dict[str, Any] = {"resamples": resamples, "seed": seed}
    if j.size == 0:
        names = ["accuracy", "kappa"] + (["tie_rate"] if tie is not None else [])
        return {name: Figure(value=None) for name in names}
    cats = list(categories)
    out = {
        "accuracy": bootstrap_figure(_same, (j, h), value=accuracy(j, h), vectorized=True, **kw),
        "kappa": bootstrap_figure(lambda a, b: kappa(a, b, cats), (j, h),
                                  value=kappa(j, h, cats), vectorized=False, **kw),
    }
    if tie is not None:
        ties = (j == tie).astype(float)
        out["tie_rate"] = bootstrap_figure(np.mean, (ties,), value=float(ties.mean()),
                                           vectorized=True, **kw)
    return out


def order_agreement(
    first_order: ArrayLike, second_order: ArrayLike, human: ArrayLike, *,
    categories: Sequence[int], tie: int, resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, Figure]:
    """A judge asked about each pair in both orders, against the annotators' choice.

    Each order's verdict is the code of the response it preferred (or ``tie``). The pair's
    verdict is that response when both orders agree, else a tie (position bias cancels out, the
    rule of the pairwise judge). Figures: ``accuracy`` and ``kappa`` of the pair's verdict
    against the annotators; ``position_consistency``, the share of pairs whose two orders give
    the same verdict (a tie in both counts as agreeing); ``tie_rate``, the share of the judge's
    answers (two per pair) that are a tie."""
    a, b = np.asarray(first_order, dtype=int), np.asarray(second_order, dtype=int)
    verdict = np.where(a == b, a, tie)
    out = choice_agreement(verdict, human, categories=categories, resamples=resamples,
                           seed=seed)
    if a.size == 0:
        return {**out, "position_consistency": Figure(value=None),
                "tie_rate": Figure(value=None)}
    kw: dict[str, Any] = {"resamples": resamples, "seed": seed, "vectorized": True}
    consistent = (a == b).astype(float)
    ties = ((a == tie).astype(float) + (b == tie).astype(float)) / 2
    out["position_consistency"] = bootstrap_figure(np.mean, (consistent,),
                                                   value=float(consistent.mean()), **kw)
    out["tie_rate"] = bootstrap_figure(np.mean, (ties,), value=float(ties.mean()), **kw)
    return out


# ---------------------------------------------------------------------- several judges


def krippendorff_alpha(
    ratings: Sequence[Sequence[float | None]], level: Level = "interval",
    value_domain: Sequence[float] | None = None,
) -> float:
    """Krippendorff's alpha (the ``krippendorff`` package) of a raters x items table; ``None``
    (or NaN) marks an item a rater did not rate. ``level`` is the scale's level of measurement:
    ``interval`` for ratings, ``ordinal`` for ranks (give the scale's ``value_domain``, so
    categories nobody used still count), ``nominal`` for choices (A/B/tie, pass/fail)."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: choose one of {', '.join(LEVELS)}")
    table = np.array([[np.nan if v is None else float(v) for v in row] for row in ratings],
                     dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(krippendorff.alpha(reliability_data=table, level_of_measurement=level,
                                        value_domain=value_domain))


def krippendorff_alpha_figure(
    ratings: Sequence[Sequence[float | None]], level: Level = "interval",
    value_domain: Sequence[float] | None = None, *, resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Figure:
    """:func:`krippendorff_alpha` with a bootstrap interval over items (the table's columns are
    resampled whole, every rater's value of an item together)."""
    table = [list(row) for row in ratings]
    n_items = len(table[0]) if table else 0

    def alpha_of(idx: np.ndarray) -> float:
        cols = [int(i) for i in idx]
        try:
            return krippendorff_alpha([[row[i] for i in cols] for row in table], level,
                                      value_domain)
        except ValueError:  # a resample with one distinct value: alpha is undefined
            return math.nan

    index = np.arange(n_items, dtype=float)
    value = alpha_of(index) if n_items else math.nan
    return bootstrap_figure(alpha_of, (index,), value=value, vectorized=False,
                            resamples=resamples, seed=seed)
