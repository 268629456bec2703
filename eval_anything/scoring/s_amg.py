"""S_AMG, the all-modality generation score, and the ``collect`` group aggregator.

    S_AMG = sum over pairs (m1, m2) in {ti, ta, ia} of  1/2 * alpha_pair * (S_m1 + S_m2) * S_pair

- ``alpha_pair``: the crowd vote share of that pair, averaged over the modality-selection items
  (a property of the dataset, read from the selection task's ``alpha/<pair>`` metrics, or given
  as ``alpha`` in the group's args);
- ``S_m``: instruction-following score of modality m (text, image, audio), divided by
  ``if_scale`` (default 10) so each lies in 0-1;
- ``S_pair``: the synergy score of the pair (0-1, ``synergy/<pair>`` of the synergy task).

With both factors in 0-1, S_AMG lies between 0 and alpha_ti + alpha_ta + alpha_ia. Its standard
error comes from the delta method, treating the tasks' estimates as independent and alpha as
fixed; it is an approximation (the three synergy pairs are scored on the same items).
"""

from __future__ import annotations

import math
from typing import Any

from eval_anything.registry import register
from eval_anything.stats import MetricValue, with_ci

PAIRS = ("ti", "ta", "ia")


def s_amg(
    alpha: dict[str, float],
    if_scores: dict[str, MetricValue],
    synergy: dict[str, MetricValue],
    if_scale: float = 10.0,
) -> dict[str, MetricValue]:
    """``s_amg`` and its per-pair terms ``s_amg/<pair>``; inputs keyed ``t, i, a`` and pairs."""
    for m in "tia":
        if m not in if_scores:
            raise KeyError(f"S_AMG needs the instruction-following score of {m!r}")
    for p in PAIRS:
        if p not in synergy or p not in alpha:
            raise KeyError(f"S_AMG needs alpha and synergy for pair {p!r}")
    s = {m: if_scores[m].value / if_scale for m in "tia"}
    se_m = {m: _scaled(if_scores[m].stderr, if_scale) for m in "tia"}
    out: dict[str, MetricValue] = {}
    total = 0.0
    grad_m = {m: 0.0 for m in "tia"}
    var_pairs = 0.0
    pair_se_known = True
    n = sum(if_scores[m].n for m in "tia") + sum(synergy[p].n for p in PAIRS)
    for p in PAIRS:
        m1, m2 = p[0], p[1]
        c = 0.5 * float(alpha[p])
        sp = synergy[p].value
        term = c * (s[m1] + s[m2]) * sp
        total += term
        grad_m[m1] += c * sp
        grad_m[m2] += c * sp
        se_p = _se(synergy[p])
        if se_p is None:
            pair_se_known = False
        else:
            var_pairs += (c * (s[m1] + s[m2]) * se_p) ** 2
        out[f"s_amg/{p}"] = MetricValue(value=term, n=synergy[p].n)
    if pair_se_known and all(se_m[m] is not None for m in "tia"):
        var = var_pairs + sum((grad_m[m] * (se_m[m] or 0.0)) ** 2 for m in "tia")
        result = with_ci(total, math.sqrt(var), n)
    else:
        result = MetricValue(value=total, n=n)
    return {"s_amg": result, **out}


def _se(mv: MetricValue) -> float | None:
    return mv.stderr


def _scaled(se: float | None, scale: float) -> float | None:
    return None if se is None else se / scale


@register("aggregator", "s_amg")
def s_amg_aggregator(
    members: dict[str, MetricValue],
    task_results: dict[str, Any] | None = None,
    instruction_following: dict[str, str] | None = None,
    synergy: str = "amg_modality_synergy",
    selection: str = "amg_modality_selection",
    if_metric: str = "instruction_following",
    alpha: dict[str, float] | None = None,
    if_scale: float = 10.0,
    **_: Any,
) -> dict[str, MetricValue]:
    """Group args: ``instruction_following`` {t, i, a: task name}, ``synergy`` and ``selection``
    task names, optional fixed ``alpha`` {pair: share}. Returns no metrics when a part is
    missing from the run or has no scored item (S_AMG is undefined without all of them)."""
    results = task_results or {}
    names = instruction_following or {
        "t": "amg_if_text", "i": "amg_if_image", "a": "amg_if_audio",
    }
    try:
        ifs = {m: results[names[m]].metrics[if_metric] for m in "tia"}
        syn = {p: results[synergy].metrics[f"synergy/{p}"] for p in PAIRS}
        alphas = dict(alpha) if alpha else {
            p: results[selection].metrics[f"alpha/{p}"].value for p in PAIRS
        }
    except KeyError:
        return {}
    parts = [*(v.value for v in ifs.values()), *(v.value for v in syn.values()), *alphas.values()]
    if any(math.isnan(float(x)) for x in parts):  # a part with no scored item: S_AMG undefined
        return {}
    return s_amg(alphas, ifs, syn, if_scale)


@register("aggregator", "collect")
def collect_aggregator(members: dict[str, MetricValue], **_: Any) -> dict[str, MetricValue]:
    """Each member's primary metric under its own name, uncombined: for suites whose parts are
    on different scales (AMU ratings 1-10, S_AMG 0-1), where an average would mean nothing."""
    return dict(members)
