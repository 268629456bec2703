"""Paired ranks and differences on a board, free of Streamlit so they are tested directly.

Runs whose tasks carry the same task fingerprints and the same sample ids form an *item set*;
only runs of one item set are compared, so runs on different items never share a rank (the board
shows one table per item set). Within an item set every pair of runs is compared on the shared
items by :func:`eval_anything.stats.run_pair.compare_runs` -- the computation behind the gate,
the demo's summary and the Compare page. The rules:

* One task: the pair's difference, CI and two-sided p are that function's.
* Several tasks (the mean board): the difference of the means of task means is the mean of the
  per-task paired differences (each divided by the task's declared range when the board
  normalizes scales); its SE is ``sqrt(sum SE_t^2) / T`` (tasks hold different items, so their
  differences are independent); CI and p are normal.
* Holm's step-down correction runs across all pairs of the board; a run's rank is one plus the
  number of runs of its item set that are measurably better: Holm-adjusted two-sided p < alpha
  and the difference in their favour.
* Runs without stored per-sample records cannot be paired: they form one set ranked by the old
  rule (CI overlap), and the page says so; so do group boards whose aggregate is not a mean of
  items (``overall``, ``s_amg``).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from eval_anything.core.results import SampleRecord
from eval_anything.leaderboard.ranking import items_digest
from eval_anything.stats.paired import holm
from eval_anything.stats.run_pair import (
    ItemScore,
    compare_all_pairs,
    compare_runs,
    item_scores,
    normal_p_two_sided,
)

ALPHA = 0.05
NO_RECORDS = "no per-sample records"

RunTask = Callable[[str, str], tuple[str | None, list[SampleRecord]]]
"""(run id, task) -> (the task's primary per-sample score name, the run's records of it)."""


@dataclass(frozen=True)
class ItemSet:
    """Runs that answered the same items of the same tasks."""

    key: str
    n_items: int
    fingerprint: str
    runs: tuple[str, ...]
    paired: bool = True  # False: a group's set, ranked by CI overlap within it

    @property
    def caption(self) -> str:
        if self.key == NO_RECORDS:
            return NO_RECORDS
        return f"items: {self.n_items}, fingerprint {self.fingerprint}"


@dataclass(frozen=True)
class PairDifference:
    """``candidate - baseline`` (positive = the candidate is better) on their shared items."""

    baseline: str
    candidate: str
    diff: float
    stderr: float | None
    ci_low: float
    ci_high: float
    p_two_sided: float
    n_items: int
    method: str
    p_holm: float = 1.0


@dataclass
class PairedRanking:
    """The item sets of a board, each run's paired rank within its set, and the pair tests."""

    sets: list[ItemSet]
    set_of: dict[str, str]
    ranks: dict[str, int]
    pairs: list[PairDifference] = field(default_factory=list)

    def rule(self, item_set: ItemSet) -> str:
        """Which rule ranked the runs of ``item_set``, as the page says it."""
        if item_set.key == NO_RECORDS:
            return "CI overlap: these runs have no per-sample records to pair"
        if not item_set.paired:
            return ("CI overlap within these runs' items: a group's score aggregates its "
                    "tasks, not paired items (no difference column)")
        if len(item_set.runs) == 1:
            return "the only run on these items: nothing to pair"
        return (f"paired test on {item_set.n_items} shared items, Holm across "
                f"{len(self.pairs)} pair(s)")


@dataclass
class _Scores:
    """Each run's item scores per task, and the item-set key they give."""

    by_run: dict[str, dict[str, dict[str, ItemScore]]] = field(default_factory=dict)
    score: dict[str, str] = field(default_factory=dict)


def _load(runs: Sequence[str], tasks: Sequence[str], run_task: RunTask) -> _Scores:
    out = _Scores()
    for run in runs:
        per_task = {}
        for task in tasks:
            score, records = run_task(run, task)
            if score is None or not records:
                break
            out.score.setdefault(task, score)
            per_task[task] = item_scores(records, score)
        else:
            out.by_run[run] = per_task
    return out


def item_sets(rows: pd.DataFrame, tasks: Sequence[str], scores: _Scores) -> list[ItemSet]:
    """Group the board's runs by (task fingerprint, sample ids) over ``tasks``."""
    fingerprints = {(r, t): str(f or "") for r, t, f in zip(
        rows["run_id"], rows["task"], rows.get("task_fingerprint", pd.Series([""] * len(rows))),
        strict=True)}
    keyed: dict[str, list[str]] = {}
    sizes: dict[str, tuple[int, str]] = {}
    for run in dict.fromkeys(rows["run_id"]):
        if run not in scores.by_run:
            keyed.setdefault(NO_RECORDS, []).append(str(run))
            continue
        parts = [f"{t}|{fingerprints.get((run, t), '')}|{','.join(sorted(scores.by_run[run][t]))}"
                 for t in tasks]
        key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
        keyed.setdefault(key, []).append(str(run))
        fps = [fingerprints.get((run, t), "") for t in tasks]
        joined = hashlib.sha256("|".join(fps).encode()).hexdigest()
        shown = fps[0][:6] if len(fps) == 1 else joined[:6]
        sizes[key] = (sum(len(scores.by_run[run][t]) for t in tasks), shown or key[:6])
    sets = [ItemSet(k, *sizes.get(k, (0, "")), runs=tuple(v)) for k, v in keyed.items()]
    return sorted(sets, key=lambda s: (s.key == NO_RECORDS, -len(s.runs), -s.n_items))


def _pair(base: str, cand: str, tasks: Sequence[str], scores: _Scores,
          directions: Mapping[str, bool], widths: Mapping[str, float]) -> PairDifference:
    """One pair through :func:`compare_runs` (per task), combined over tasks (module doc)."""
    parts = [compare_runs(scores.by_run[base][t], scores.by_run[cand][t], scores.score[t],
                          directions.get(t, True)) for t in tasks]
    if len(parts) == 1:
        p = parts[0]
        return PairDifference(base, cand, p.diff, p.stderr, p.ci_low, p.ci_high, p.p_two_sided,
                              p.n_pairs, p.method)
    return _combined(base, cand, [(p.diff, p.stderr, p.n_pairs) for p in parts],
                     [widths.get(t, 1.0) for t in tasks])


def _combined(base: str, cand: str, parts: Sequence[tuple[float, float | None, int]],
              widths: Sequence[float]) -> PairDifference:
    """Mean of per-task differences (each over its declared range), normal CI and p."""
    w = [1.0 / width for width in widths]
    diff = sum(wt * d for wt, (d, _, _) in zip(w, parts, strict=True)) / len(parts)
    if any(se is None or math.isnan(se) for _, se, _ in parts):
        se: float | None = None
    else:
        se = math.sqrt(sum((wt * (s or 0.0)) ** 2
                           for wt, (_, s, _) in zip(w, parts, strict=True))) / len(parts)
    z = float(sps.norm.ppf(1 - ALPHA / 2))
    low, high = (-math.inf, math.inf) if se is None else (diff - z * se, diff + z * se)
    return PairDifference(base, cand, diff, se, low, high, normal_p_two_sided(diff, se),
                          sum(n for _, _, n in parts), "mean of per-task paired differences")


def _matrix(runs: Sequence[str], task: str, scores: _Scores) -> np.ndarray | None:
    """Runs x items (sorted sample ids, as :func:`compare_runs` pairs them) when every run
    scored every item and no item has a cluster key; else None (pairs go one by one)."""
    ids = sorted(scores.by_run[runs[0]][task])
    rows = []
    for run in runs:
        cells = scores.by_run[run][task]
        if any(cells[i][0] is None or cells[i][1] is not None for i in ids):
            return None
        rows.append([cells[i][0] for i in ids])
    return np.asarray(rows, dtype=float)


def _set_pairs(item_set: ItemSet, tasks: Sequence[str], scores: _Scores,
               directions: Mapping[str, bool], widths: Mapping[str, float]
               ) -> list[PairDifference]:
    """Every pair of one item set: all at once (:func:`compare_all_pairs`, the same numbers)
    where the items allow, else one :func:`compare_runs` per pair."""
    runs = list(item_set.runs)
    matrices = [_matrix(runs, t, scores) for t in tasks]
    if any(m is None for m in matrices):
        return [_pair(a, b, tasks, scores, directions, widths)
                for a, b in itertools.combinations(runs, 2)]
    every = [compare_all_pairs(m, directions.get(t, True))
             for t, m in zip(tasks, matrices, strict=True) if m is not None]
    out = []
    for i, j in itertools.combinations(range(len(runs)), 2):
        if len(every) == 1:
            e, n = every[0], len(scores.by_run[runs[0]][tasks[0]])
            out.append(PairDifference(runs[i], runs[j], float(e.diff[i, j]),
                                      float(e.stderr[i, j]), math.nan, math.nan,
                                      float(e.p_two_sided[i, j]), n, "all pairs at once"))
        else:
            parts = [(float(e.diff[i, j]), float(e.stderr[i, j]),
                      len(scores.by_run[runs[0]][t])) for e, t in zip(every, tasks, strict=True)]
            out.append(_combined(runs[i], runs[j], parts, [widths.get(t, 1.0) for t in tasks]))
    return out


def paired_ranking(
    rows: pd.DataFrame,
    tasks: Sequence[str],
    run_task: RunTask,
    directions: Mapping[str, bool] | None = None,
    widths: Mapping[str, float] | None = None,
    alpha: float = ALPHA,
) -> PairedRanking:
    """Item sets, pair tests (Holm across all of the board's pairs) and paired ranks of the
    board's runs (``rows``: one row per run and task, with ``task_fingerprint``). ``directions``:
    task -> higher is better; ``widths``: task -> declared range, when the board normalizes.
    Runs without records are left out of ``ranks`` (the caller ranks them by CI overlap)."""
    runs = list(dict.fromkeys(rows["run_id"]))
    scores = _load(runs, tasks, run_task)
    sets = item_sets(rows, tasks, scores)
    pairs = [p for s in sets if s.key != NO_RECORDS
             for p in _set_pairs(s, tasks, scores, directions or {}, widths or {})]
    adjusted = holm([p.p_two_sided for p in pairs])
    pairs = [PairDifference(**{**p.__dict__, "p_holm": h})
             for p, h in zip(pairs, adjusted, strict=True)]
    better: dict[str, int] = {}
    for p in pairs:
        if p.p_holm < alpha and p.diff != 0:
            loser = p.baseline if p.diff > 0 else p.candidate
            better[loser] = better.get(loser, 0) + 1
    ranks = {r: 1 + better.get(r, 0) for s in sets if s.key != NO_RECORDS for r in s.runs}
    return PairedRanking(sets, {r: s.key for s in sets for r in s.runs}, ranks, pairs)


def differences_vs(
    baseline: str,
    rows: pd.DataFrame,
    tasks: Sequence[str],
    run_task: RunTask,
    directions: Mapping[str, bool] | None = None,
    widths: Mapping[str, float] | None = None,
) -> dict[str, PairDifference | str]:
    """Each other run of the board against ``baseline`` on their shared items: its paired
    difference (the pair rule of the module doc), or why there is none."""
    runs = list(dict.fromkeys(rows["run_id"]))
    scores = _load(runs, tasks, run_task)
    sets = {r: s.key for s in item_sets(rows, tasks, scores) for r in s.runs}
    out: dict[str, PairDifference | str] = {}
    for run in runs:
        if run == baseline:
            continue
        if baseline not in scores.by_run or run not in scores.by_run:
            out[run] = "no records to pair"
        elif sets.get(run) != sets.get(baseline):
            out[run] = "other item set"
        else:
            out[run] = _pair(baseline, run, tasks, scores, directions or {}, widths or {})
    return out


def group_item_sets(rows: pd.DataFrame, runs: Sequence[str], members: Collection[str]
                    ) -> PairedRanking:
    """A group board's runs split by the items behind their scores: the task fingerprints of
    the group's member tasks in each run (``rows``: every row of those runs). The store keeps
    no per-item scores of a group, so each set is ranked by CI overlap, but only within itself:
    a suite scored on 10 items per task never shares a rank with one scored on 30."""
    mine = rows[rows["run_id"].isin(list(runs)) & rows["task"].isin(list(members))
                & (rows["kind"] == "task")]
    fps = mine.get("task_fingerprint", pd.Series([""] * len(mine), index=mine.index))
    signature: dict[str, list[tuple[str, str]]] = {}
    items: dict[str, int] = {}
    for run, task, fp, n in zip(mine["run_id"], mine["task"], fps.fillna(""), mine["n"],
                                strict=True):
        signature.setdefault(str(run), []).append((str(task), str(fp)))
        items[str(run)] = items.get(str(run), 0) + (0 if pd.isna(n) else int(n))
    keyed: dict[str, list[str]] = {}
    for run in dict.fromkeys(str(r) for r in runs):
        digest = items_digest(signature.get(run, []))
        keyed.setdefault("g" + digest[:11], []).append(run)
    sets = [ItemSet(k, items.get(v[0], 0), k[1:7], tuple(v), paired=False)
            for k, v in keyed.items()]
    sets.sort(key=lambda s: (-len(s.runs), -s.n_items))
    return PairedRanking(sets, {r: s.key for s in sets for r in s.runs}, {})


def default_baseline(table: pd.DataFrame) -> str | None:
    """The baseline a board starts with: a training run's earliest checkpoint (lowest step)
    when the board has one, else its best row (the first one, as the table is sorted)."""
    if table.empty:
        return None
    trained = table[table["training run"].notna() & table["step"].notna()]
    if not trained.empty:
        return str(trained.sort_values(["step", "created_at"]).iloc[0]["run_id"])
    return str(table.iloc[0]["run_id"])


def store_run_task(store: object) -> RunTask:
    """A :data:`RunTask` reading a store directly (tests, scripts); the app reads through its
    caches instead (``leaderboard.data``)."""
    from eval_anything.core.results import primary_score_name
    from eval_anything.store import queries

    def run_task(run: str, task: str) -> tuple[str | None, list[SampleRecord]]:
        records = queries.sample_records(store, run, task)  # type: ignore[arg-type]
        result = queries.load_results(store, run).tasks.get(task)  # type: ignore[arg-type]
        if result is None or not records:
            return None, []
        return primary_score_name(result, records), records

    return run_task


def ranked_table(table: pd.DataFrame, ranking: PairedRanking, lower_better: bool = False
                 ) -> pd.DataFrame:
    """``table`` (:func:`leaderboard.ranking.board_table`) re-ranked: each run's paired rank
    within its item set (``item set`` column: the set's key), ties counted within the set, and
    runs without records ranked among themselves by CI overlap. Sorted by set, then rank."""
    from eval_anything.leaderboard.ranking import ranks_by_upper_bound

    out = table.copy()
    out["item set"] = [ranking.set_of.get(str(r), NO_RECORDS) for r in out["run_id"]]
    ranks = pd.array([ranking.ranks.get(str(r)) for r in out["run_id"]], dtype="Int64")
    unpaired = {s.key for s in ranking.sets if not s.paired} | {NO_RECORDS}
    for key in unpaired:  # CI overlap, within each set only
        loose = (out["item set"] == key).to_numpy()
        if not loose.any():
            continue
        lows = out.loc[loose, "ci_low"].to_numpy(dtype=float)
        highs = out.loc[loose, "ci_high"].to_numpy(dtype=float)
        fallback = (ranks_by_upper_bound(-highs, -lows) if lower_better
                    else ranks_by_upper_bound(lows, highs))
        ranks[loose] = pd.array(fallback, dtype="Int64")
    unscored = out["score"].isna().to_numpy()
    ranks[unscored] = pd.NA
    out["rank"] = ranks
    out["tied"] = out.groupby(["item set", "rank"], dropna=False)["rank"].transform("size") - 1
    out.loc[out["rank"].isna(), "tied"] = 0
    order = {s.key: i for i, s in enumerate(ranking.sets)}
    out["_set"] = out["item set"].map(order)
    out = out.sort_values(["_set", "rank", "score"], ascending=[True, True, lower_better],
                          na_position="last")
    return out.drop(columns=["_set"]).reset_index(drop=True)


def difference_columns(table: pd.DataFrame, diffs: Mapping[str, PairDifference | str],
                       baseline: str) -> pd.DataFrame:
    """``Δ vs baseline`` with its 95% CI (``Δ low``, ``Δ high``) beside each row, and why a row
    has none (``Δ note``); the baseline row reads "baseline"."""
    cells: list[tuple[float, float, float, str]] = []
    for run in table["run_id"]:
        d = diffs.get(str(run))
        if str(run) == baseline:
            cells.append((math.nan, math.nan, math.nan, "baseline"))
        elif isinstance(d, PairDifference):
            cells.append((d.diff, d.ci_low, d.ci_high, f"{d.n_items} items, {d.method}"))
        else:
            cells.append((math.nan, math.nan, math.nan, d or "not compared"))
    names = ("Δ vs baseline", "Δ low", "Δ high", "Δ note")
    return table.assign(**{n: [c[i] for c in cells] for i, n in enumerate(names)})
