"""The main table's ranking, ties, filters and dedup (pure pandas, no Streamlit)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from eval_anything.leaderboard import ranking
from eval_anything.spec.task import ScaleSpec

UNIT = ScaleSpec(min=0, max=1)
SCALES = {"qa": UNIT, "img": UNIT}


def test_rank_is_one_plus_rows_significantly_better() -> None:
    lows = np.array([0.80, 0.70, 0.50, 0.10])
    highs = np.array([0.90, 0.85, 0.75, 0.20])
    # row 2's upper bound 0.75 is below row 0's lower bound 0.80 only -> rank 2;
    # row 3 is below all three -> rank 4; rows 0 and 1 overlap -> both rank 1
    assert ranking.ranks_by_upper_bound(lows, highs).tolist() == [1, 1, 2, 4]


def test_rows_without_bounds_are_unranked() -> None:
    ranks = ranking.ranks_by_upper_bound(np.array([0.5, np.nan]), np.array([0.6, np.nan]))
    assert ranks[0] == 1 and math.isnan(ranks[1])


def _rows(specs: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    """(run_id, model, task, value, stderr) -> leaderboard rows."""
    return pd.DataFrame([
        {"run_id": r, "model_name": m, "model_identity": f"{m}-identity", "training_run_id": None,
         "step": None, "created_at": f"2026-01-01T00:00:{i:02d}", "task": t, "kind": "task",
         "primary_metric": "acc", "value": v, "stderr": se, "ci_low": v - 1.96 * se,
         "ci_high": v + 1.96 * se, "n": 100, "input_modalities": "text,image" if t == "img" else
         "text", "output_modalities": "text"}
        for i, (r, m, t, v, se) in enumerate(specs)
    ])


def _names(table: pd.DataFrame) -> list[str]:
    """Model labels without the identity hash the table appends (``a · <hash>`` -> ``a``)."""
    return [m.split(" · ")[0] for m in table["model"]]


def _by_model(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index(pd.Index(_names(table)))


def test_board_table_ranks_on_the_mean_of_tasks_with_ties() -> None:
    rows = _rows([
        ("r1", "a", "qa", 0.90, 0.01), ("r1", "a", "img", 0.80, 0.01),
        ("r2", "b", "qa", 0.89, 0.01), ("r2", "b", "img", 0.80, 0.01),
        ("r3", "c", "qa", 0.20, 0.01), ("r3", "c", "img", 0.30, 0.01),
    ])
    table = ranking.board_table(rows, scales=SCALES)
    assert _names(table) == ["a", "b", "c"]
    assert list(table["rank"]) == [1, 1, 3]
    assert list(table["tied"]) == [1, 1, 0]
    # mean of means: SE = sqrt(0.01^2 + 0.01^2) / 2
    assert table.loc[0, "score"] == pytest.approx(0.85)
    assert table.loc[0, "ci_high"] - table.loc[0, "score"] == pytest.approx(
        1.959964 * math.sqrt(2) * 0.01 / 2, rel=1e-5)
    one = ranking.board_table(rows, rank_on="img")  # one task: no scale needed
    assert one.loc[0, "score"] == pytest.approx(0.80)


def test_missing_task_leaves_a_row_unranked() -> None:
    rows = _rows([("r1", "a", "qa", 0.9, 0.01), ("r1", "a", "img", 0.8, 0.01),
                  ("r2", "b", "qa", 0.5, 0.01)])
    table = ranking.board_table(rows, scales=SCALES)
    assert _names(table) == ["a", "b"]
    assert pd.isna(table.loc[1, "rank"]) and math.isnan(table.loc[1, "score"])


def test_filters_by_modality_and_model() -> None:
    rows = _rows([("r1", "a", "qa", 0.9, 0.01), ("r1", "a", "img", 0.8, 0.01),
                  ("r2", "b", "qa", 0.5, 0.01)])
    assert set(ranking.filter_rows(rows, modalities=["image"])["task"]) == {"img"}
    assert set(ranking.filter_rows(rows, models=["b"])["run_id"]) == {"r2"}
    assert len(ranking.filter_rows(rows, tasks=["qa"])) == 2


def test_latest_run_per_checkpoint_wins() -> None:
    rows = _rows([("old", "a", "qa", 0.5, 0.01), ("new", "a", "qa", 0.7, 0.01),
                  ("other", "b", "qa", 0.1, 0.01)])
    kept = ranking.latest_per_checkpoint(rows)
    assert sorted(kept["run_id"]) == ["new", "other"]


def test_score_range_for_progress_bars() -> None:
    assert ranking.score_range(pd.Series([0.2, 0.9])) == (0.0, 1.0)
    assert ranking.score_range(pd.Series([3.0, 7.5])) == (0.0, 8.0)
    assert ranking.score_range(pd.Series([np.nan])) == (0.0, 1.0)


MIXED = [
    ("r1", "a", "qa", 0.90, 0.01), ("r1", "a", "img", 2.0, 0.1),
    ("r2", "b", "qa", 0.50, 0.01), ("r2", "b", "img", 9.0, 0.1),
]


def test_mean_over_undeclared_scales_is_refused() -> None:
    rows = _rows(MIXED)
    plan = ranking.score_plan(rows, ranking.MEAN, {"qa": UNIT})
    assert plan.kind == "refused" and "img" in plan.message and "scale" in plan.message
    table = ranking.board_table(rows, scales={"qa": UNIT})
    assert table["rank"].isna().all() and table["score"].isna().all()
    assert sorted(table["img"]) == [2.0, 9.0]  # the values stay shown, only unranked


def test_mean_over_declared_scales_is_normalized() -> None:
    rows = _rows(MIXED)
    scales = {"qa": UNIT, "img": ScaleSpec(min=1, max=10)}
    plan = ranking.score_plan(rows, ranking.MEAN, scales)
    assert plan.kind == "normalized" and "qa 0-1" in plan.message and "img 1-10" in plan.message
    table = _by_model(ranking.board_table(rows, scales=scales))
    # a: (0.90 + (2 - 1) / 9) / 2; b: (0.50 + 8 / 9) / 2, so b ranks first on the normalized mean
    assert table.loc["a", "score"] == pytest.approx((0.90 + 1 / 9) / 2)
    assert table.loc["b", "score"] == pytest.approx((0.50 + 8 / 9) / 2)
    se_b = math.sqrt(0.01**2 + (0.1 / 9) ** 2) / 2
    assert table.loc["b", "ci_high"] - table.loc["b", "score"] == pytest.approx(1.959964 * se_b,
                                                                              rel=1e-5)
    assert list(table.index) == ["b", "a"]


def test_lower_is_better_is_flipped() -> None:
    rows = _rows([("r1", "a", "loss", 0.2, 0.01), ("r2", "b", "loss", 0.9, 0.01),
                  ("r1", "a", "qa", 0.5, 0.01), ("r2", "b", "qa", 0.5, 0.01)])
    loss = ScaleSpec(min=0, max=1, higher_is_better=False)
    one = ranking.board_table(rows, rank_on="loss", scales={"loss": loss})
    assert _names(one) == ["a", "b"] and list(one["rank"]) == [1, 2]
    both = _by_model(ranking.board_table(rows, scales={"loss": loss, "qa": UNIT}))
    assert both.loc["a", "score"] == pytest.approx((0.8 + 0.5) / 2)  # 1 - 0.2 on the flip
    assert both.loc["a", "rank"] == 1 and both.loc["b", "rank"] == 2


def test_latest_run_per_checkpoint_keeps_tasks_only_an_older_run_covered() -> None:
    # "old" covered qa and img; the newer rerun of the same checkpoint only qa
    rows = _rows([("old", "a", "qa", 0.5, 0.01), ("old", "a", "img", 0.4, 0.01),
                  ("new", "a", "qa", 0.7, 0.01)])
    kept = ranking.latest_per_checkpoint(rows)
    assert sorted(zip(kept["run_id"], kept["task"], strict=True)) == [("new", "qa"),
                                                                      ("old", "img")]


def test_latest_run_per_checkpoint_keeps_both_item_sets() -> None:
    # the same model on the same task at --limit 30 and --limit 10: different fingerprints
    rows = _rows([("n30", "a", "qa", 0.5, 0.01), ("n10", "a", "qa", 0.7, 0.01)])
    rows["task_fingerprint"] = ["fp30", "fp10"]
    assert sorted(ranking.latest_per_checkpoint(rows)["run_id"]) == ["n10", "n30"]
    rows["task_fingerprint"] = ["fp30", "fp30"]
    assert list(ranking.latest_per_checkpoint(rows)["run_id"]) == ["n10"]


def test_group_rows_carry_their_member_tasks_items() -> None:
    """A group scored on other items is another item set for latest-per-checkpoint: two runs of
    one checkpoint's suite at different limits both stay; a rerun on the same items replaces."""
    def row(run: str, task: str, kind: str, fp: str, minute: int) -> dict[str, object]:
        return {"run_id": run, "task": task, "kind": kind, "task_fingerprint": fp,
                "model_identity": "m", "training_run_id": None, "step": None,
                "created_at": f"2026-12-07T10:{minute:02d}"}

    rows = pd.DataFrame([
        row("lim10", "t1", "task", "fp10", 1), row("lim10", "suite", "group", "", 1),
        row("lim30", "t1", "task", "fp30", 2), row("lim30", "suite", "group", "", 2),
        row("again30", "t1", "task", "fp30", 3), row("again30", "suite", "group", "", 3),
        row("again30", "extra", "task", "fpx", 3),
    ])
    filled = ranking.with_group_fingerprints(rows, lambda g: {"t1"} if g == "suite" else set())
    groups = filled[filled["kind"] == "group"].set_index("run_id")["task_fingerprint"]
    assert groups["lim30"] == groups["again30"] != groups["lim10"]  # "extra" is not a member
    kept = ranking.latest_per_checkpoint(filled)
    suite_runs = set(kept.loc[kept["task"] == "suite", "run_id"])
    assert suite_runs == {"lim10", "again30"}
