"""The main table's logic, free of Streamlit so it is tested and benchmarked directly.

:func:`board_table` ranks by the arena convention: a row's rank is one plus the number of rows
that are *significantly* better, i.e. whose CI lower bound lies above this row's CI upper bound.
Rows whose intervals overlap share a rank (a tie group): the table never claims an order the
data cannot support. The page re-ranks runs that share items by paired tests
(:mod:`leaderboard.paired_ranks`); this rule stays for runs that cannot be paired. The score a
row is ranked on is one task's primary metric or the unweighted mean of the selected tasks'
primary metrics (``stats.mean_of_means``), each with its 95% CI. The mean follows the scale rule
of :mod:`eval_anything.scoring.scales`: one declared scale -> the plain mean;
declared scales that differ -> the mean of values normalized to 0-1 by their declared ranges;
a task without a declared scale -> no mean (every row unranked, and the page says why). A task
whose lower values are better ranks with its order reversed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

from eval_anything.scoring.scales import MeanPlan, mean_plan
from eval_anything.spec.task import ScaleSpec
from eval_anything.stats.intervals import Z95, MetricValue, mean_of_means, with_ci

MEAN = "mean of selected tasks"
INFO_COLUMNS = ["model_name", "model_identity", "training_run_id", "step", "created_at"]


def latest_per_checkpoint(rows: pd.DataFrame) -> pd.DataFrame:
    """Keep the newest run of each model checkpoint (same model identity, training run and step)
    *per task and item set*: a rerun replaces the older run's row of a task it covered again, on
    the same items (task fingerprint), and nothing else -- a task only the older run covered
    stays, and runs on different items (``--limit 30`` and ``--limit 10``) both stay."""
    if rows.empty:
        return rows
    keys = ["model_identity", "training_run_id", "step"]
    keys += [c for c in ("task", "task_fingerprint") if c in rows.columns]
    order = rows.sort_values(["created_at", "run_id"], kind="stable")
    newest = ~order[keys].astype(str).duplicated(keep="last")
    return rows.loc[rows.index.isin(order.index[newest.to_numpy()])]


def items_digest(task_fingerprints: Iterable[tuple[str, str]]) -> str:
    """One fingerprint for the items of several tasks: (task, fingerprint) pairs in any order."""
    joined = "\n".join(sorted(f"{t}|{f}" for t, f in task_fingerprints))
    return hashlib.sha256(joined.encode()).hexdigest()


def with_group_fingerprints(rows: pd.DataFrame,
                            members_of: Callable[[str], Collection[str]]) -> pd.DataFrame:
    """The rows with each group row's empty ``task_fingerprint`` filled: the digest of the
    fingerprints its member tasks carry in the same run (a group keeps none of its own in the
    store). So a group scored on other items (another ``--limit``) is another item set to every
    reader: latest-per-checkpoint, the board's sets and the drilldown."""
    if rows.empty or "task_fingerprint" not in rows.columns:
        return rows
    tasks = rows[rows["kind"] == "task"]
    by_run: dict[str, list[tuple[str, str]]] = {}
    for run, task, fp in zip(tasks["run_id"], tasks["task"], tasks["task_fingerprint"].fillna(""),
                             strict=True):
        by_run.setdefault(str(run), []).append((str(task), str(fp)))
    filled = [
        items_digest((t, f) for t, f in by_run.get(str(run), []) if t in members_of(str(task)))
        if kind != "task" and not fp else fp
        for run, task, kind, fp in zip(rows["run_id"], rows["task"], rows["kind"],
                                       rows["task_fingerprint"].fillna(""), strict=True)
    ]
    return rows.assign(task_fingerprint=filled)


def _split(cell: object) -> set[str]:
    return {m for m in str(cell or "").split(",") if m}


def filter_rows(
    rows: pd.DataFrame,
    tasks: Sequence[str] = (),
    modalities: Sequence[str] = (),
    models: Sequence[str] = (),
    training_runs: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows of the chosen tasks (all when empty), of tasks touching any chosen modality (input
    or output), of the chosen models and training runs."""
    out = rows
    if tasks:
        out = out[out["task"].isin(list(tasks))]
    if modalities:
        wanted = set(modalities)
        touches = [
            bool((_split(i) | _split(o)) & wanted)
            for i, o in zip(out["input_modalities"], out["output_modalities"], strict=True)
        ]
        out = out[touches]
    if models:
        out = out[out["model_name"].isin(list(models))]
    if training_runs:
        out = out[out["training_run_id"].isin(list(training_runs))]
    return out


def ranks_by_upper_bound(lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """1 + the number of rows whose lower bound exceeds this row's upper bound (NaN bounds:
    unranked, returned as NaN)."""
    lows = np.asarray(lows, dtype=float)
    highs = np.asarray(highs, dtype=float)
    valid = ~np.isnan(lows) & ~np.isnan(highs)
    sorted_lows = np.sort(lows[valid])
    ranks = np.full(lows.shape, np.nan)
    above = sorted_lows.size - np.searchsorted(sorted_lows, highs[valid], side="right")
    ranks[valid] = 1 + above
    return ranks


_CHECKPOINT_DIR = re.compile(r"(checkpoint|step|epoch|global_step)[-_]?\d+", re.IGNORECASE)


def short_model_name(name: object) -> str:
    """A model's name as a reader recognizes it: a hub id (``org/model``) stays as written; a
    local path becomes its folder name, with the parent folder in front when the folder is a
    numbered checkpoint (``train/checkpoint-40``). The full path stays in the run's details."""
    text = str(name or "").strip()
    if not text:
        return "(unnamed model)"
    is_path = text.startswith(("/", "./", "../", "~")) or PureWindowsPath(text).drive != ""
    if not is_path:
        return text
    parts = [p for p in PurePosixPath(text.replace("\\", "/")).parts if p not in ("/", ".")]
    if not parts:
        return text
    tail = parts[-1]
    if _CHECKPOINT_DIR.fullmatch(tail) and len(parts) > 1:
        return f"{parts[-2]}/{tail}"
    return tail


def _label(info: pd.DataFrame) -> pd.Series:
    """``short name @ step N · identity hash``: readable, and two different models never share
    a label (the hash is the first six characters of the model's identity)."""
    step = info["step"]
    suffix = np.where(step.notna(), " @ step " + step.astype("Int64").astype(str), "")
    identity = info["model_identity"].fillna("").astype(str).str[:6]
    short = info["model_name"].map(short_model_name)
    label = short + suffix + np.where(identity != "", " · " + identity, "")
    dup = label.duplicated(keep=False)
    return label.where(~dup, label + " (" + info.index.astype(str).str[:8] + ")")


def _score_of(values: np.ndarray, stderrs: np.ndarray) -> MetricValue:
    if np.isnan(values).any():
        return MetricValue(value=math.nan)
    parts = [
        MetricValue(value=float(v), stderr=None if math.isnan(s) else float(s))
        for v, s in zip(values, stderrs, strict=True)
    ]
    if len(parts) == 1:
        return with_ci(parts[0].value, parts[0].stderr, 0)
    return mean_of_means(parts)


def score_plan(
    rows: pd.DataFrame, rank_on: str = MEAN, scales: dict[str, ScaleSpec] | None = None
) -> MeanPlan:
    """How the ranking score of ``rank_on`` over these rows is taken (see the module doc)."""
    tasks = sorted(rows["task"].unique()) if not rows.empty else []
    ranked = [rank_on] if rank_on in tasks else tasks
    return mean_plan(ranked, scales or {})


def _ranked_arrays(
    values: pd.DataFrame, stderrs: pd.DataFrame, ranked: list[str], plan: MeanPlan
) -> tuple[np.ndarray, np.ndarray]:
    v_arr = values[ranked].to_numpy(dtype=float, na_value=np.nan, copy=True)
    s_arr = stderrs[ranked].to_numpy(dtype=float, na_value=np.nan, copy=True)
    if plan.kind == "refused":
        return np.full_like(v_arr, np.nan), s_arr
    if plan.kind == "normalized":
        for j, task in enumerate(ranked):
            scale = plan.scales[task]
            width = scale.max - scale.min
            unit = (v_arr[:, j] - scale.min) / width
            v_arr[:, j] = unit if scale.higher_is_better else 1.0 - unit
            s_arr[:, j] = s_arr[:, j] / width
    return v_arr, s_arr


def board_table(
    rows: pd.DataFrame, rank_on: str = MEAN, scales: dict[str, ScaleSpec] | None = None
) -> pd.DataFrame:
    """One row per run: model label, lineage, the ranking score with its 95% CI, rank, tie
    count, and each task's primary value and CI half-width (``<task> ±``). ``scales``: the
    declared scale per task (:func:`eval_anything.scoring.scales.scales_of`)."""
    if rows.empty:
        return pd.DataFrame()
    tasks = sorted(rows["task"].unique())
    values = rows.pivot(index="run_id", columns="task", values="value")[tasks]
    stderrs = rows.pivot(index="run_id", columns="task", values="stderr")[tasks]
    info = rows.drop_duplicates("run_id").set_index("run_id")[INFO_COLUMNS].loc[values.index]
    ranked_tasks = [rank_on] if rank_on in tasks else tasks
    plan = mean_plan(ranked_tasks, scales or {})
    v_arr, s_arr = _ranked_arrays(values, stderrs, ranked_tasks, plan)
    scores = [_score_of(v, s) for v, s in zip(v_arr, s_arr, strict=True)]
    score = np.array([s.value for s in scores], dtype=float)
    lows = np.array([s.ci_low if s.ci_low is not None else s.value for s in scores], dtype=float)
    highs = np.array([s.ci_high if s.ci_high is not None else s.value for s in scores], dtype=float)
    lower_better = len(ranked_tasks) == 1 and not (
        plan.scales.get(ranked_tasks[0], ScaleSpec(min=0, max=1)).higher_is_better)
    ranks = (ranks_by_upper_bound(-highs, -lows) if lower_better
             else ranks_by_upper_bound(lows, highs))
    table = pd.DataFrame({
        "rank": pd.array(ranks, dtype="Int64"),
        "model": _label(info).to_numpy(),
        "training run": info["training_run_id"].to_numpy(),
        "step": info["step"].astype("Int64").array,
        "score": score,
        "ci_low": lows,
        "ci_high": highs,
    }, index=values.index)
    if len(ranked_tasks) == 1:
        counts = rows.pivot(index="run_id", columns="task", values="n")[ranked_tasks[0]]
        table["n"] = pd.array(counts.loc[values.index], dtype="Int64")
    table["tied"] = table.groupby("rank", dropna=False)["rank"].transform("size") - 1
    table.loc[table["rank"].isna(), "tied"] = 0
    for task in tasks:
        table[task] = values[task]
        table[f"{task} ±"] = Z95 * stderrs[task]
    table["run_id"] = table.index
    table["created_at"] = info["created_at"].to_numpy()
    table = table.sort_values(["rank", "score"], ascending=[True, lower_better],
                              na_position="last")
    table["trend"] = training_sparklines(table)
    head = ["rank", "model", "training run", "step", "score", "trend", "ci_low", "ci_high", "tied"]
    head += ["n"] if "n" in table.columns else []
    return table[head + [c for c in table.columns if c not in head]].reset_index(drop=True)


PAPER_SUITES = ("eval-anything", "eval-anything-mini")


def board_names(rows: pd.DataFrame, paper_groups: Sequence[str] = ()) -> list[str]:
    """The leaderboards a store offers, first screen first: the paper's suites
    (``eval-anything``, then ``eval-anything-mini``, then other paper-layout groups), other
    groups, then tasks; each only when some run has a score for it."""
    if rows.empty:
        return []
    scored = rows[rows["value"].notna()]
    groups = set(scored.loc[scored["kind"] == "group", "task"])
    tasks = set(scored.loc[scored["kind"] != "group", "task"])
    paper = [g for g in (*PAPER_SUITES, *sorted(paper_groups)) if g in groups]
    paper = list(dict.fromkeys(paper))
    return paper + sorted(groups - set(paper)) + sorted(tasks - groups)


def first_screen_boards(boards: Sequence[str], members: dict[str, set[str]]) -> list[str]:
    """The boards the first screen shows: every suite, and every task or group that is not
    part of a shown suite (a suite's board already shows its parts as the paper's columns;
    they stay a pick away)."""
    inside = set().union(*(members.get(b, set()) for b in boards)) if boards else set()
    return [b for b in boards if b not in inside]


def board_rows(rows: pd.DataFrame, board: str) -> tuple[pd.DataFrame, int]:
    """The rows of one leaderboard: runs that have a score for ``board``. Also how many runs
    hold ``board`` without a score (all items unscored): they are left out of the ranking, and
    the page says how many, rather than showing them with a blank score and no rank."""
    mine = rows[rows["task"] == board]
    scored = mine[mine["value"].notna()]
    return scored, int(mine["run_id"].nunique() - scored["run_id"].nunique())


def training_sparklines(table: pd.DataFrame) -> list[list[float] | None]:
    """For each row of a training run, that run's ranking score by step (the sparkline)."""
    series: dict[str, list[float]] = {}
    trained = table[table["training run"].notna()].sort_values("step")
    for run, group in trained.groupby("training run"):
        series[str(run)] = [float(x) for x in group["score"] if not math.isnan(x)]
    return [series.get(str(r)) if pd.notna(r) else None for r in table["training run"]]


def score_range(values: pd.Series) -> tuple[float, float]:
    """Bounds for a progress bar: [0, 1] for rates, else [0, the next integer above the max]
    (ratings 1-10 get [0, 10])."""
    finite = values.dropna()
    if finite.empty:
        return (0.0, 1.0)
    low = min(0.0, float(finite.min()))
    high = float(finite.max())
    return (low, 1.0 if high <= 1.0 else float(math.ceil(high)))


def training_curve(rows: pd.DataFrame, training_run: str) -> pd.DataFrame:
    """Primary metric by step for every task of one training run (latest run per step)."""
    sub = rows[(rows["training_run_id"] == training_run) & rows["step"].notna()]
    sub = latest_per_checkpoint(sub)
    cols = ["step", "task", "value", "ci_low", "ci_high", "run_id"]
    return sub[cols].sort_values(["task", "step"]).reset_index(drop=True)
