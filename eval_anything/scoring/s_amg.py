"""The eval-anything headline scores: S_AMG (all-modality generation), AMU and Overall.

These are the formulas of the Align Anything paper's main results table (figure ``eval_exp.png``,
also ``docs/technical_report.md`` of PKU-Alignment/align-anything); every row of that table
satisfies them to rounding (``tests/test_paper_scores.py``)::

    AMG     = Select * sum over (m1, m2) in (t,i), (t,a), (i,a) of 1/2 * (S_m1 + S_m2) * S_pair
    AMU     = mean of the four category means (perception, reasoning, instruction-following, safety)
    Overall = (AMU + AMG) / 2

- ``Select``: the model's own modality-selection score (mean over items of the vote share of the
  combination it chose; all three count a third), the printed formula's alpha;
- ``S_m``: instruction-following score of modality m (text, image, audio) on the judges' 0-10
  scale;
- ``S_pair``: the pair's synergy score (0-1).

The plain functions (``amg_score``, ``amu_score``, ``overall_score``) take numbers, so anyone can
check them against the table. The ``*_value`` twins take :class:`MetricValue` estimates and
return standard errors by the delta method, treating the task estimates as independent (they come
from different tasks; the three synergy pairs share items, so the SE is an approximation there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from eval_anything.registry import register
from eval_anything.stats.intervals import MetricValue, with_ci

PAIRS = ("ti", "ta", "ia")
MODALITIES = ("t", "i", "a")
AMU_CATEGORIES = ("perception", "reasoning", "instruction-following", "safety")


def amg_score(
    select: float, if_scores: Mapping[str, float], synergy: Mapping[str, float]
) -> float:
    """S_AMG from numbers: ``if_scores`` keyed ``t, i, a`` (0-10), ``synergy`` keyed ``ti, ta,
    ia`` (0-1), ``select`` the model's modality-selection score."""
    return sum(_pair_terms(select, if_scores, synergy).values())


def amu_score(categories: Sequence[float]) -> float:
    """AMU from the category means: their unweighted mean (each category counts equally)."""
    if not categories:
        raise ValueError("AMU needs at least one category mean")
    return sum(categories) / len(categories)


def overall_score(amu: float, amg: float) -> float:
    """Overall = (AMU + AMG) / 2."""
    return (amu + amg) / 2.0


def vote_weighted_amg_score(
    alpha: Mapping[str, float], if_scores: Mapping[str, float], synergy: Mapping[str, float]
) -> float:
    """The other reading of the printed formula: each pair weighed by the dataset's mean vote
    share for that pair instead of the model's selection score. It does not reproduce the
    paper's table; reported only as ``s_amg_vote_weighted``, never as S_AMG."""
    _check(if_scores, synergy)
    missing = [p for p in PAIRS if p not in alpha]
    if missing:
        raise KeyError(f"the vote-weighted S_AMG needs the vote share of pairs {missing}")
    return sum(
        0.5 * alpha[p] * (if_scores[p[0]] + if_scores[p[1]]) * synergy[p] for p in PAIRS
    )


def _check(if_scores: Mapping[str, Any], synergy: Mapping[str, Any]) -> None:
    for m in MODALITIES:
        if m not in if_scores:
            raise KeyError(f"S_AMG needs the instruction-following score of {m!r}")
    for p in PAIRS:
        if p not in synergy:
            raise KeyError(f"S_AMG needs the synergy score of pair {p!r}")


def _pair_terms(
    select: float, if_scores: Mapping[str, float], synergy: Mapping[str, float]
) -> dict[str, float]:
    _check(if_scores, synergy)
    return {
        p: select * 0.5 * (if_scores[p[0]] + if_scores[p[1]]) * synergy[p] for p in PAIRS
    }


# ---------------------------------------------------------------- with standard errors


def amg_value(
    select: MetricValue, if_scores: Mapping[str, MetricValue], synergy: Mapping[str, MetricValue]
) -> dict[str, MetricValue]:
    """``s_amg`` with its delta-method SE and 95% CI, and the per-pair terms ``s_amg/<pair>``
    (each with its own delta-method SE). ``s_amg`` comes first: a parent group reads it."""
    _check(if_scores, synergy)
    sel = select.value
    s = {m: if_scores[m].value for m in MODALITIES}
    sp = {p: synergy[p].value for p in PAIRS}
    terms = _pair_terms(sel, s, sp)
    n = select.n + sum(if_scores[m].n for m in MODALITIES) + sum(synergy[p].n for p in PAIRS)
    # d S_AMG / d x for every input x, then sqrt(sum (grad * SE)^2)
    grads: list[tuple[float, float | None]] = [(_bracket(s, sp), select.stderr)]
    for m in MODALITIES:
        g = sel * sum(0.5 * sp[p] for p in PAIRS if m in p)
        grads.append((g, if_scores[m].stderr))
    for p in PAIRS:
        grads.append((sel * 0.5 * (s[p[0]] + s[p[1]]), synergy[p].stderr))
    out = {"s_amg": _delta(sum(terms.values()), grads, n)}
    for p in PAIRS:
        m1, m2 = p[0], p[1]
        pair_grads = [
            (0.5 * (s[m1] + s[m2]) * sp[p], select.stderr),
            (sel * 0.5 * sp[p], if_scores[m1].stderr),
            (sel * 0.5 * sp[p], if_scores[m2].stderr),
            (sel * 0.5 * (s[m1] + s[m2]), synergy[p].stderr),
        ]
        out[f"s_amg/{p}"] = _delta(terms[p], pair_grads, synergy[p].n)
    return out


def _bracket(s: Mapping[str, float], sp: Mapping[str, float]) -> float:
    """The sum over pairs without Select (the derivative of S_AMG by Select)."""
    return sum(0.5 * (s[p[0]] + s[p[1]]) * sp[p] for p in PAIRS)


def amu_value(categories: Sequence[MetricValue]) -> MetricValue:
    """AMU with SE: the categories are disjoint item sets, so SE = sqrt(sum SE^2) / k."""
    k = len(categories)
    value = amu_score([c.value for c in categories])
    return _delta(value, [(1.0 / k, c.stderr) for c in categories], sum(c.n for c in categories))


def overall_value(amu: MetricValue, amg: MetricValue) -> MetricValue:
    """Overall with SE: sqrt(SE_AMU^2 + SE_AMG^2) / 2 (AMU and AMG use different items)."""
    value = overall_score(amu.value, amg.value)
    return _delta(value, [(0.5, amu.stderr), (0.5, amg.stderr)], amu.n + amg.n)


def _delta(value: float, grads: Sequence[tuple[float, float | None]], n: int) -> MetricValue:
    """Point estimate with the delta-method SE; no SE when any input lacks one."""
    if any(se is None for _, se in grads):
        return MetricValue(value=value, n=n)
    var = sum((g * (se or 0.0)) ** 2 for g, se in grads)
    return with_ci(value, math.sqrt(var), n)


# ---------------------------------------------------------------- group aggregators


def _is_nan(mv: MetricValue) -> bool:
    return math.isnan(float(mv.value))


@register("aggregator", "s_amg")
def s_amg_aggregator(
    members: dict[str, MetricValue],
    task_results: dict[str, Any] | None = None,
    instruction_following: dict[str, str] | None = None,
    synergy: str = "amg_modality_synergy",
    selection: str = "amg_modality_selection",
    if_metric: str = "instruction_following",
    select_metric: str = "selection",
    **_: Any,
) -> dict[str, MetricValue]:
    """Group args: ``instruction_following`` {t, i, a: task name}, ``synergy`` and ``selection``
    task names. Returns ``s_amg`` (first), its pair terms, the inputs it used (``select``,
    ``if/<m>``, ``synergy/<pair>``) and, when the selection task reports the dataset's vote
    shares, ``s_amg_vote_weighted``. Returns no metrics when a part is missing from the run or
    has no scored item (S_AMG is undefined without all of them)."""
    results = task_results or {}
    names = instruction_following or {
        "t": "amg_if_text", "i": "amg_if_image", "a": "amg_if_audio",
    }
    try:
        ifs = {m: results[names[m]].metrics[if_metric] for m in MODALITIES}
        syn = {p: results[synergy].metrics[f"synergy/{p}"] for p in PAIRS}
        sel = results[selection].metrics[select_metric]
    except KeyError:
        return {}
    if any(_is_nan(v) for v in [*ifs.values(), *syn.values(), sel]):
        return {}
    out = amg_value(sel, ifs, syn)
    out["select"] = sel
    out.update({f"if/{m}": ifs[m] for m in MODALITIES})
    out.update({f"synergy/{p}": syn[p] for p in PAIRS})
    shares = results[selection].metrics
    if all(f"alpha/{p}" in shares for p in PAIRS):
        alpha = {p: shares[f"alpha/{p}"].value for p in PAIRS}
        value = vote_weighted_amg_score(alpha, {m: v.value for m, v in ifs.items()},
                                        {p: v.value for p, v in syn.items()})
        out["s_amg_vote_weighted"] = MetricValue(value=value, n=out["s_amg"].n)
    return out


@register("aggregator", "overall")
def overall_aggregator(
    members: dict[str, MetricValue],
    task_results: dict[str, Any] | None = None,
    groups: dict[str, Any] | None = None,
    amu: str = "amu",
    amu_metric: str = "amu",
    categories: Sequence[str] = AMU_CATEGORIES,
    amg: str = "amg",
    amg_metric: str = "s_amg",
    **_: Any,
) -> dict[str, MetricValue]:
    """The suite's ``overall`` (first), ``amu`` and ``amg``. AMU is recomputed from the task's
    four category means ``<amu_metric>/<category>`` (the paper's AMU column); AMG is the
    ``amg_metric`` of the ``amg`` group (or task). A missing or unscored part leaves its score
    out (and Overall with it), never a zero."""
    results = task_results or {}
    done = groups or {}
    out: dict[str, MetricValue] = {}
    amu_mv: MetricValue | None = None
    if amu in results:
        metrics = results[amu].metrics
        cats = [metrics.get(f"{amu_metric}/{c}") for c in categories]
        if all(c is not None and not _is_nan(c) for c in cats):
            amu_mv = amu_value([c for c in cats if c is not None])
            out.update({f"amu/{c}": mv for c, mv in zip(categories, cats, strict=True)
                        if mv is not None})
    source = done.get(amg) or results.get(amg)
    amg_mv = source.metrics.get(amg_metric) if source is not None else None
    if amg_mv is not None and _is_nan(amg_mv):
        amg_mv = None
    head: dict[str, MetricValue] = {}
    if amu_mv is not None and amg_mv is not None:
        head["overall"] = overall_value(amu_mv, amg_mv)
    if amu_mv is not None:
        head["amu"] = amu_mv
    if amg_mv is not None:
        head["amg"] = amg_mv
    return {**head, **out}


@register("aggregator", "collect")
def collect_aggregator(members: dict[str, MetricValue], **_: Any) -> dict[str, MetricValue]:
    """Each member's primary metric under its own name, uncombined: for groups whose parts are
    on different scales, where an average would mean nothing."""
    return dict(members)
