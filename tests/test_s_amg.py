"""S_AMG, AMU and Overall by hand, their delta-method standard errors, and the group
aggregators (the paper's own rows are in test_paper_scores.py)."""

from __future__ import annotations

import math

import pytest

from eval_anything.core.results import GroupResult, TaskResult
from eval_anything.scoring.s_amg import (
    amg_score,
    amg_value,
    amu_value,
    collect_aggregator,
    overall_aggregator,
    overall_value,
    s_amg_aggregator,
    vote_weighted_amg_score,
)
from eval_anything.stats.intervals import Z95, MetricValue


def mv(value: float, se: float | None = 0.0, n: int = 10) -> MetricValue:
    return MetricValue(value=value, stderr=se, n=n)


SELECT = mv(0.25)
IF = {"t": mv(8.0), "i": mv(6.0), "a": mv(4.0)}
SYN = {"ti": mv(0.5), "ta": mv(0.7), "ia": mv(0.9)}
# Select * 1/2 * (S_m1 + S_m2) * S_pair, IF on the 0-10 scale
TI, TA, IA = 0.25 * 0.5 * 14 * 0.5, 0.25 * 0.5 * 12 * 0.7, 0.25 * 0.5 * 10 * 0.9


def test_s_amg_by_hand() -> None:
    out = amg_value(SELECT, IF, SYN)
    assert out["s_amg/ti"].value == pytest.approx(TI)
    assert out["s_amg/ta"].value == pytest.approx(TA)
    assert out["s_amg/ia"].value == pytest.approx(IA)
    assert out["s_amg"].value == pytest.approx(TI + TA + IA)
    assert list(out)[0] == "s_amg"  # a parent group reads the first metric
    plain = amg_score(0.25, {"t": 8, "i": 6, "a": 4}, {"ti": 0.5, "ta": 0.7, "ia": 0.9})
    assert plain == pytest.approx(TI + TA + IA)


def test_perfect_scores_give_thirty_times_select() -> None:
    best = amg_score(1.0, {m: 10.0 for m in "tia"}, {p: 1.0 for p in SYN})
    assert best == pytest.approx(30.0)
    assert amg_score(0.0, {m: 10.0 for m in "tia"}, {p: 1.0 for p in SYN}) == 0.0


def test_delta_method_standard_error() -> None:
    out = amg_value(SELECT, IF, {**SYN, "ti": mv(0.5, se=0.1)})
    assert out["s_amg"].stderr == pytest.approx(0.25 * 0.5 * 14 * 0.1)  # d/dS_ti * SE
    assert out["s_amg/ti"].stderr == pytest.approx(0.25 * 0.5 * 14 * 0.1)
    assert out["s_amg/ta"].stderr == pytest.approx(0.0)
    t_se = amg_value(SELECT, {**IF, "t": mv(8.0, se=1.0)}, SYN)["s_amg"]
    assert t_se.stderr == pytest.approx(0.25 * 0.5 * (0.5 + 0.7) * 1.0)  # t is in ti and ta
    sel_se = amg_value(mv(0.25, se=0.02), IF, SYN)["s_amg"]
    assert sel_se.stderr == pytest.approx((TI + TA + IA) / 0.25 * 0.02)
    assert sel_se.ci_high - sel_se.value == pytest.approx(Z95 * sel_se.stderr)
    no_se = amg_value(SELECT, {**IF, "a": mv(4.0, se=None)}, SYN)["s_amg"]
    assert no_se.stderr is None and no_se.ci_low is None


def test_amu_and_overall_standard_errors() -> None:
    amu = amu_value([mv(2.0, 0.2), mv(4.0, 0.2), mv(6.0, 0.2), mv(8.0, 0.2)])
    assert amu.value == pytest.approx(5.0)
    assert amu.stderr == pytest.approx(math.sqrt(4 * 0.04) / 4)
    overall = overall_value(amu, mv(3.0, 0.3))
    assert overall.value == pytest.approx(4.0)
    assert overall.stderr == pytest.approx(math.sqrt(amu.stderr**2 + 0.09) / 2)


def test_missing_parts_raise_in_the_formula() -> None:
    with pytest.raises(KeyError, match="'a'"):
        amg_value(SELECT, {"t": mv(1), "i": mv(1)}, SYN)
    with pytest.raises(KeyError, match="ia"):
        amg_score(0.2, {"t": 1, "i": 1, "a": 1}, {"ti": 0.1, "ta": 0.1})
    with pytest.raises(KeyError, match="vote share"):
        vote_weighted_amg_score({"ti": 0.1}, {"t": 1, "i": 1, "a": 1}, {p: 1 for p in SYN})


def task(metrics: dict[str, MetricValue]) -> TaskResult:
    return TaskResult(task="x", task_version="1", task_fingerprint="f", n=10, metrics=metrics)


ALPHA = {"ti": 0.2, "ta": 0.1, "ia": 0.05}
RESULTS = {
    "amg_if_text": task({"instruction_following": IF["t"]}),
    "amg_if_image": task({"instruction_following": IF["i"]}),
    "amg_if_audio": task({"instruction_following": IF["a"]}),
    "amg_modality_synergy": task({f"synergy/{p}": SYN[p] for p in SYN}),
    "amg_modality_selection": task({"selection": SELECT,
                                    **{f"alpha/{p}": mv(a) for p, a in ALPHA.items()}}),
}


def test_aggregator_reads_the_member_tasks() -> None:
    out = s_amg_aggregator({}, task_results=RESULTS)
    assert out["s_amg"].value == pytest.approx(TI + TA + IA)
    assert out["select"].value == 0.25 and out["if/t"].value == 8.0
    assert out["synergy/ia"].value == 0.9
    # the dataset-vote-share reading, under its own name only
    weighted = 0.5 * (0.2 * 14 * 0.5 + 0.1 * 12 * 0.7 + 0.05 * 10 * 0.9)
    assert out["s_amg_vote_weighted"].value == pytest.approx(weighted)
    no_alpha = {**RESULTS, "amg_modality_selection": task({"selection": SELECT})}
    assert "s_amg_vote_weighted" not in s_amg_aggregator({}, task_results=no_alpha)


def test_aggregator_with_renamed_tasks() -> None:
    renamed = {f"mini_{k}": v for k, v in RESULTS.items()}
    out = s_amg_aggregator(
        {}, task_results=renamed,
        instruction_following={"t": "mini_amg_if_text", "i": "mini_amg_if_image",
                               "a": "mini_amg_if_audio"},
        synergy="mini_amg_modality_synergy", selection="mini_amg_modality_selection",
    )
    assert out["s_amg"].value == pytest.approx(TI + TA + IA)


def test_aggregator_is_empty_when_a_part_is_missing_or_unscored() -> None:
    partial = {k: v for k, v in RESULTS.items() if k != "amg_if_audio"}
    assert s_amg_aggregator({}, task_results=partial) == {}
    unscored = {**RESULTS, "amg_if_text": task({"instruction_following": mv(math.nan)})}
    assert s_amg_aggregator({}, task_results=unscored) == {}


CATS = {f"amu/{c}": mv(v, 0.1) for c, v in
        zip(("perception", "reasoning", "instruction-following", "safety"), (2, 3, 4, 5),
            strict=True)}


def test_overall_aggregator() -> None:
    amu_task = task({"amu/all": mv(99.0), **CATS})  # AMU is recomputed from the categories
    amg = GroupResult(group="amg", tasks=[], metrics={"s_amg": mv(2.0, 0.1)})
    out = overall_aggregator({}, task_results={"amu": amu_task}, groups={"amg": amg})
    assert list(out)[:3] == ["overall", "amu", "amg"]
    assert out["amu"].value == pytest.approx(3.5)
    assert out["overall"].value == pytest.approx((3.5 + 2.0) / 2)
    assert out["overall"].ci_low is not None
    only_amu = overall_aggregator({}, task_results={"amu": amu_task}, groups={})
    assert "overall" not in only_amu and only_amu["amu"].value == pytest.approx(3.5)
    three = task({k: v for k, v in CATS.items() if not k.endswith("safety")})
    partial = overall_aggregator({}, task_results={"amu": three}, groups={"amg": amg})
    assert "overall" not in partial and "amu" not in partial and "amg" in partial


def test_collect_keeps_members_side_by_side() -> None:
    members = {"amu": mv(6.5), "amg": mv(0.13)}
    assert collect_aggregator(members) == members
