"""S_AMG by hand, its delta-method standard error, and the group aggregators."""

from __future__ import annotations

import math

import pytest

from eval_anything.results import TaskResult
from eval_anything.scoring.s_amg import collect_aggregator, s_amg, s_amg_aggregator
from eval_anything.stats import MetricValue

ALPHA = {"ti": 0.2, "ta": 0.1, "ia": 0.05}


def mv(value: float, se: float | None = 0.0, n: int = 10) -> MetricValue:
    return MetricValue(value=value, stderr=se, n=n)


IF = {"t": mv(8.0), "i": mv(6.0), "a": mv(4.0)}
SYN = {"ti": mv(0.5), "ta": mv(0.7), "ia": mv(0.9)}


def test_s_amg_by_hand() -> None:
    out = s_amg(ALPHA, IF, SYN)
    # 1/2 * alpha * (S_m1 + S_m2) / 10-scale * S_pair
    ti = 0.5 * 0.2 * (0.8 + 0.6) * 0.5  # 0.07
    ta = 0.5 * 0.1 * (0.8 + 0.4) * 0.7  # 0.042
    ia = 0.5 * 0.05 * (0.6 + 0.4) * 0.9  # 0.0225
    assert out["s_amg/ti"].value == pytest.approx(ti)
    assert out["s_amg/ta"].value == pytest.approx(ta)
    assert out["s_amg/ia"].value == pytest.approx(ia)
    assert out["s_amg"].value == pytest.approx(ti + ta + ia)
    assert list(out)[0] == "s_amg"  # a parent group reads the first metric


def test_perfect_scores_give_half_of_alpha_times_two() -> None:
    perfect_if = {m: mv(10.0) for m in "tia"}
    perfect_syn = {p: mv(1.0) for p in ALPHA}
    best = s_amg(ALPHA, perfect_if, perfect_syn)["s_amg"].value
    assert best == pytest.approx(sum(ALPHA.values()))


def test_delta_method_standard_error() -> None:
    syn = {**SYN, "ti": mv(0.5, se=0.1)}
    out = s_amg(ALPHA, IF, syn)["s_amg"]
    assert out.stderr == pytest.approx(0.5 * 0.2 * (0.8 + 0.6) * 0.1)  # d/dS_ti * SE
    ifs = {**IF, "t": mv(8.0, se=1.0)}
    se_t = 0.1  # on the 0-1 scale
    grad_t = 0.5 * 0.2 * 0.5 + 0.5 * 0.1 * 0.7  # t appears in ti and ta
    assert s_amg(ALPHA, ifs, SYN)["s_amg"].stderr == pytest.approx(grad_t * se_t)
    no_se = s_amg(ALPHA, {**IF, "a": mv(4.0, se=None)}, SYN)["s_amg"]
    assert no_se.stderr is None and no_se.ci_low is None


def test_missing_parts_raise_in_the_formula() -> None:
    with pytest.raises(KeyError, match="'a'"):
        s_amg(ALPHA, {"t": mv(1), "i": mv(1)}, SYN)
    with pytest.raises(KeyError, match="ia"):
        s_amg({"ti": 0.1, "ta": 0.1}, IF, SYN)


def task(metrics: dict[str, MetricValue]) -> TaskResult:
    return TaskResult(task="x", task_version="1", task_fingerprint="f", n=10, metrics=metrics)


RESULTS = {
    "amg_if_text": task({"instruction_following": IF["t"]}),
    "amg_if_image": task({"instruction_following": IF["i"]}),
    "amg_if_audio": task({"instruction_following": IF["a"]}),
    "amg_modality_synergy": task({f"synergy/{p}": SYN[p] for p in SYN}),
    "amg_modality_selection": task({f"alpha/{p}": mv(a) for p, a in ALPHA.items()}),
}


def test_aggregator_reads_the_member_tasks() -> None:
    out = s_amg_aggregator({}, task_results=RESULTS)
    assert out["s_amg"].value == pytest.approx(0.07 + 0.042 + 0.0225)
    fixed = s_amg_aggregator({}, task_results=RESULTS, alpha={"ti": 1.0, "ta": 0.0, "ia": 0.0})
    assert fixed["s_amg"].value == pytest.approx(0.5 * 1.0 * 1.4 * 0.5)


def test_aggregator_with_renamed_tasks() -> None:
    renamed = {f"mini_{k}": v for k, v in RESULTS.items()}
    out = s_amg_aggregator(
        {}, task_results=renamed,
        instruction_following={"t": "mini_amg_if_text", "i": "mini_amg_if_image",
                               "a": "mini_amg_if_audio"},
        synergy="mini_amg_modality_synergy", selection="mini_amg_modality_selection",
    )
    assert out["s_amg"].value == pytest.approx(0.1345)


def test_aggregator_is_empty_when_a_part_is_missing_or_unscored() -> None:
    partial = {k: v for k, v in RESULTS.items() if k != "amg_if_audio"}
    assert s_amg_aggregator({}, task_results=partial) == {}
    unscored = {**RESULTS, "amg_if_text": task({"instruction_following": mv(math.nan)})}
    assert s_amg_aggregator({}, task_results=unscored) == {}


def test_collect_keeps_members_side_by_side() -> None:
    members = {"amu": mv(6.5), "amg": mv(0.13)}
    assert collect_aggregator(members) == members
