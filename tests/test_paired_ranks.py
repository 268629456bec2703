"""Paired ranks on shared items, and one computation of a pair's difference and CI everywhere:
the gate, the demo's summary, the board's difference column and the Compare page."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from paired_seed import BINARY, STEPS, TASK, seed_training_store
from streamlit.testing.v1 import AppTest

from eval_anything.core.results_files import read_sample_records
from eval_anything.gate.verdict import gate
from eval_anything.leaderboard import paired_ranks, ranking
from eval_anything.stats.run_pair import compare_all_pairs, compare_records, compare_runs
from eval_anything.store import STORE_ENV, open_store, queries
from eval_anything.trainers.demo.loop import paired_gain

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
BASE, LAST = f"ckpt-{STEPS[0]:02d}", f"ckpt-{STEPS[-1]:02d}"


@pytest.fixture(scope="module")
def improving(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("improving")
    return seed_training_store(root, improve=True), root


@pytest.fixture(scope="module")
def null(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("null")
    return seed_training_store(root, improve=False), root


def _ranking(url: str, task: str) -> tuple[paired_ranks.PairedRanking, pd.DataFrame]:
    with open_store(url) as store:
        rows = queries.leaderboard_rows(store)
        rows = rows[rows["task"] == task]
        return paired_ranks.paired_ranking(rows, [task], paired_ranks.store_run_task(store)), rows


def _pair(r: paired_ranks.PairedRanking, a: str, b: str) -> paired_ranks.PairDifference:
    return next(p for p in r.pairs if {p.baseline, p.candidate} == {a, b})


def _ranks_follow_the_tests(r: paired_ranks.PairedRanking) -> None:
    """rank = 1 + the runs of the same item set a Holm-adjusted paired test finds better."""
    for run, rank in r.ranks.items():
        better = [p for p in r.pairs if run in (p.baseline, p.candidate) and p.p_holm < 0.05
                  and (p.diff > 0) == (p.baseline == run)]
        assert rank == 1 + len(better), run


@pytest.mark.parametrize("task", [TASK, BINARY])
def test_last_checkpoint_ranks_above_base_on_a_clear_gain(improving: tuple[str, Path],
                                                         task: str) -> None:
    r, _ = _ranking(improving[0], task)
    pair = _pair(r, BASE, LAST)
    assert pair.p_holm < 0.05 and pair.diff > 0.25
    assert r.ranks[LAST] < r.ranks[BASE]
    assert len(r.pairs) >= 10  # Holm ran across every pair of the board
    _ranks_follow_the_tests(r)


@pytest.mark.parametrize("task", [TASK, BINARY])
def test_no_gain_no_order(null: tuple[str, Path], task: str) -> None:
    r, _ = _ranking(null[0], task)
    pair = _pair(r, BASE, LAST)
    assert pair.p_holm >= 0.05 and pair.diff == pytest.approx(0.0)
    checkpoints = [f"ckpt-{s:02d}" for s in STEPS]
    assert {r.ranks[c] for c in checkpoints} == {1}
    _ranks_follow_the_tests(r)


def test_runs_on_different_items_never_share_a_rank(improving: tuple[str, Path]) -> None:
    r, rows = _ranking(improving[0], BINARY)
    sets = {r.set_of[run] for run in ("hub-limit30", "hub-limit10", BASE)}
    assert len(sets) == 3  # 30 items, 10 items, the checkpoints' 24: three item sets
    captions = {s.key: s.caption for s in r.sets}
    assert captions[r.set_of["hub-limit30"]].startswith("items: 30, fingerprint ")
    assert all(r.set_of[p.baseline] == r.set_of[p.candidate] for p in r.pairs)
    table = paired_ranks.ranked_table(ranking.board_table(rows, BINARY), r)
    for _, part in table.groupby("item set"):
        assert part["rank"].min() == 1  # ranked within its own set
    diffs = paired_ranks.differences_vs(BASE, rows, [BINARY], _run_task(improving[0]))
    assert diffs["hub-limit30"] == "other item set"
    assert isinstance(diffs[LAST], paired_ranks.PairDifference)


def _run_task(url: str) -> paired_ranks.RunTask:
    return paired_ranks.store_run_task(open_store(url))  # closed with the process


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


@pytest.mark.parametrize("task", [TASK, BINARY])
def test_every_path_shows_the_same_difference_and_ci(
    improving: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, task: str
) -> None:
    url, root = improving
    score = "acc"
    one = compare_records(read_sample_records(root / BASE, task),
                          read_sample_records(root / LAST, task), score)
    expected = (one.diff, one.ci_low, one.ci_high)
    gated = next(c for c in gate(root / BASE, root / LAST).tasks if c.task == task)
    assert (gated.diff, gated.ci_low, gated.ci_high) == expected
    demo = paired_gain(root / BASE, root / LAST, task, score)
    assert demo is not None and (demo.mean, demo.ci_low, demo.ci_high) == expected
    with open_store(url) as store:
        rows = queries.leaderboard_rows(store)
        board = paired_ranks.differences_vs(BASE, rows[rows["task"] == task], [task],
                                            paired_ranks.store_run_task(store))[LAST]
    assert isinstance(board, paired_ranks.PairDifference)
    assert (board.diff, board.ci_low, board.ci_high) == expected

    monkeypatch.setenv(STORE_ENV, url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="rank_on").set_value(task).run()
    assert not at.exception, at.exception
    shown = _frame_with(at, "Δ 95% CI")
    last = shown[shown["model"].str.contains("checkpoint-40")].iloc[0]
    assert last["Δ"] == f"{expected[0]:+.3f}"  # the page shows the same numbers, rounded
    assert last["Δ 95% CI"] == f"[{expected[1]:+.3f}, {expected[2]:+.3f}]"
    assert last["run_id"] == LAST[:8]
    assert shown[shown["model"].str.contains("checkpoint-0 ")].iloc[0]["Δ 95% CI"] == "baseline"
    assert any("paired test on 24 shared items, Holm across" in c.value for c in at.caption)
    at.sidebar.radio(key="view").set_value("Compare runs").run()
    at.selectbox(key="cmp_a").set_value(BASE).run()
    at.selectbox(key="cmp_b").set_value(LAST).run()
    assert not at.exception, at.exception
    cmp = _frame_with(at, "B - A").set_index("task").loc[task]
    assert (cmp["B - A"], cmp["CI low"], cmp["CI high"]) == expected


@pytest.mark.parametrize(("graded", "higher_is_better"),
                         [(False, True), (True, True), (True, False), (False, False)])
def test_all_pairs_at_once_match_one_pair_at_a_time(graded: bool,
                                                     higher_is_better: bool) -> None:
    """The board's vectorized pair tests give each pair exactly what the one function gives."""
    rng = np.random.default_rng(1)
    shape = (5, 30)
    values = (rng.integers(0, 3, shape) / 2 if graded
              else (rng.random(shape) < 0.5).astype(float))
    values[1] = values[0]  # one pair with no difference at all
    every = compare_all_pairs(values, higher_is_better)
    for i, j in itertools.permutations(range(shape[0]), 2):
        one = compare_runs({f"s{k:03d}": (values[i, k], None) for k in range(shape[1])},
                           {f"s{k:03d}": (values[j, k], None) for k in range(shape[1])},
                           "acc", higher_is_better)
        assert every.diff[i, j] == pytest.approx(one.diff, abs=1e-12)
        assert every.stderr[i, j] == pytest.approx(one.stderr, abs=1e-12)
        assert every.p_two_sided[i, j] == pytest.approx(one.p_two_sided, abs=1e-12)


def test_board_pair_test_is_the_one_functions(improving: tuple[str, Path]) -> None:
    url, root = improving
    r, _ = _ranking(url, TASK)
    one = compare_records(read_sample_records(root / BASE, TASK),
                          read_sample_records(root / LAST, TASK), "acc")
    assert _pair(r, BASE, LAST).p_two_sided == pytest.approx(one.p_two_sided, abs=1e-12)


def test_mean_board_difference_is_the_mean_of_task_differences(
    improving: tuple[str, Path]
) -> None:
    url, root = improving
    with open_store(url) as store:
        rows = queries.leaderboard_rows(store)
        run_task = paired_ranks.store_run_task(store)
        both = paired_ranks.differences_vs(BASE, rows[rows["task"].isin([TASK, BINARY])],
                                           [TASK, BINARY], run_task)[LAST]
        ranked = paired_ranks.paired_ranking(rows[rows["task"].isin([TASK, BINARY])],
                                             [TASK, BINARY], run_task)
    parts = [compare_records(read_sample_records(root / BASE, t),
                             read_sample_records(root / LAST, t), "acc") for t in (TASK, BINARY)]
    assert isinstance(both, paired_ranks.PairDifference)
    assert both.diff == pytest.approx((parts[0].diff + parts[1].diff) / 2)
    se = (parts[0].stderr ** 2 + parts[1].stderr ** 2) ** 0.5 / 2  # type: ignore[operator]
    assert both.stderr == pytest.approx(se)
    assert both.n_items == 48
    # the hub runs answered qa only: not on the mean board's item set of the checkpoints
    assert ranked.ranks[LAST] < ranked.ranks[BASE]
    assert _pair(ranked, BASE, LAST).diff == pytest.approx(both.diff)


def test_training_page_shows_each_checkpoints_difference_to_step_0(
    improving: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = improving
    monkeypatch.setenv(STORE_ENV, url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.radio(key="view").set_value("Training runs").run()
    assert not at.exception, at.exception
    curve = _frame_with(at, "Δ vs first step")
    sel = curve[curve["task"] == TASK].set_index("step")
    assert sel.loc[0, "Δ 95% CI"] == "baseline"
    one = compare_records(read_sample_records(root / BASE, TASK),
                          read_sample_records(root / LAST, TASK), "acc")
    assert sel.loc[STEPS[-1], "Δ vs first step"] == f"{one.diff:+.3f}"
    assert sel.loc[0, "Δ vs first step"] == "-"
    assert sel.loc[STEPS[-1], "Δ 95% CI"] == f"[{one.ci_low:+.3f}, {one.ci_high:+.3f}]"


def test_group_board_ranks_runs_on_different_items_apart() -> None:
    """A group keeps no per-item scores, so its board ranks by CI overlap, but never across
    runs whose member tasks were scored on different items (``--limit 10`` vs ``--limit 30``)."""
    def row(run: str, task: str, kind: str, fp: str, n: int, value: float) -> dict[str, object]:
        return {"run_id": run, "task": task, "kind": kind, "task_fingerprint": fp, "n": n,
                "value": value}

    rows = pd.DataFrame([
        row("r10", "t1", "task", "fp-t1-10", 10, 0.5), row("r10", "t2", "task", "fp-t2", 5, 0.4),
        row("r10", "suite", "group", "", 15, 0.45),
        row("r30", "t1", "task", "fp-t1-30", 30, 0.9), row("r30", "t2", "task", "fp-t2", 5, 0.4),
        row("r30", "suite", "group", "", 35, 0.9),
        row("s30", "t1", "task", "fp-t1-30", 30, 0.2), row("s30", "t2", "task", "fp-t2", 5, 0.3),
        row("s30", "suite", "group", "", 35, 0.2),
    ])
    sets = paired_ranks.group_item_sets(rows, ["r10", "r30", "s30"], {"t1", "t2"})
    assert sets.set_of["r30"] == sets.set_of["s30"] != sets.set_of["r10"]
    assert {s.n_items for s in sets.sets} == {15, 35}
    assert all("CI overlap within" in sets.rule(s) for s in sets.sets)
    table = pd.DataFrame({"run_id": ["r30", "r10", "s30"], "score": [0.9, 0.45, 0.2],
                          "ci_low": [0.85, 0.0, 0.1], "ci_high": [0.95, 1.0, 0.3]})
    ranked = paired_ranks.ranked_table(table, sets).set_index("run_id")
    # r10's wide CI overlaps both others, but it is alone on its items: rank 1 of its own set
    assert ranked.loc["r10", "rank"] == 1 and ranked.loc["r10", "tied"] == 0
    # r30 and s30 share items: r30's CI lies above s30's
    assert ranked.loc["r30", "rank"] == 1 and ranked.loc["s30", "rank"] == 2
    assert ranked.loc["r30", "item set"] != ranked.loc["r10", "item set"]
