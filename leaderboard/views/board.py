"""The main page: one leaderboard per suite or task, ranked by paired tests on shared items.

The first screen shows one board per suite and task, suites first (``eval-anything``, then
``eval-anything-mini``, ranked on Overall beside the paper's columns): a board ranks only the
runs that have its score, so no row shows a blank score or no rank, and a board never mixes
scales. The mean over several tasks stays available as the last board. A board splits into one
table per item set (runs on the same items), each ranked by paired tests
(:mod:`leaderboard.paired_ranks`), and shows every row's paired difference to a baseline row.
A score whose task overlaps the checkpoint's training data carries a mark (``⚠ overlap 3/24``).
The board and the filters live in the URL (``?board=qa&models=alpha,beta``), so a view can be
shared.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data, paired_ranks, ranking
from eval_anything.leaderboard.links import from_link, to_link
from eval_anything.leaderboard.render import md_escape
from eval_anything.leaderboard.settings import view_runs
from eval_anything.leaderboard.views import overlap_marks
from eval_anything.scoring.paper_table import PaperLayoutError, rows_as_records, run_row

MODALITIES = ["text", "image", "audio", "video"]
ALL_BOARDS = "every suite and task"
MAX_BOARDS = 12  # boards on the first screen; the rest are a pick away
TOP_ROWS = 10  # rows per board on the first screen
FILTERS = {"f_tasks": "tasks", "f_modalities": "modalities", "f_models": "models",
           "f_training": "training"}


def _filters(rows: pd.DataFrame) -> pd.DataFrame:
    side = st.sidebar
    side.subheader("Filters")
    options = {
        "f_tasks": sorted(rows["task"].unique()),
        "f_modalities": MODALITIES,
        "f_models": sorted(rows["model_name"].unique()),
        "f_training": sorted(rows["training_run_id"].dropna().unique()),
    }
    for key, param in FILTERS.items():
        from_link(key, param, options[key], many=True)
    tasks = side.multiselect("Tasks", options["f_tasks"], key="f_tasks", placeholder="all tasks")
    modalities = side.multiselect("Modality", MODALITIES, key="f_modalities",
                                  placeholder="any modality")
    models = side.multiselect("Model", options["f_models"], key="f_models",
                              placeholder="all models", format_func=ranking.short_model_name)
    training = side.multiselect("Training run", options["f_training"], key="f_training",
                                placeholder="all runs")
    for key, param in FILTERS.items():
        to_link(param, st.session_state.get(key) or [])
    groups = side.checkbox("Show groups", value=True, key="f_groups")
    latest = side.checkbox("Latest run per checkpoint", value=not view_runs(), key="f_latest")
    out = ranking.filter_rows(rows, tasks, modalities, models, training)
    if not groups:
        out = out[out["kind"] == "task"]
    return ranking.latest_per_checkpoint(out) if latest else out


def column_config(table: pd.DataFrame, tasks: list[str]) -> dict[str, Any]:
    cc = st.column_config
    low, high = ranking.score_range(table["score"])
    config: dict[str, Any] = {
        "rank": cc.NumberColumn("rank", help="1 + runs on the same items measurably better in a "
                                "paired test (Holm-adjusted p < 0.05); the caption names the "
                                "rule"),
        "tied": cc.NumberColumn("tied", help="Other rows of this table sharing this rank"),
        "Δ": cc.TextColumn("Δ", help="Paired difference to the baseline row on the shared items "
                           "(positive = better)"),
        "Δ 95% CI": cc.TextColumn("Δ 95% CI", help="95% CI of the paired difference (the "
                                  "gate's statistics), or why the row has none"),
        "score": cc.ProgressColumn("score", format="%.3f", min_value=low, max_value=high,
                                   width="small"),
        "ci_low": cc.NumberColumn("CI low", format="%.3f"),
        "ci_high": cc.NumberColumn("CI high", format="%.3f"),
        "n": cc.NumberColumn("n", help="Items scored in this run's task", format="%d"),
        "trend": cc.LineChartColumn("training curve", help="Score by step in this training run"),
        "step": cc.NumberColumn("step", format="%d"),
        "created_at": None,
        "run_id": cc.TextColumn("run id", width="small", help="First 8 characters"),
        "model": cc.TextColumn("model", width="medium", help="Short name @ step · identity hash "
                               "(the full path is on the Reproducibility page)"),
        "training run": cc.TextColumn("training run", width="small"),
    }
    for task in tasks:
        lo, hi = ranking.score_range(table[task])
        config[task] = cc.ProgressColumn(task, format="%.3f", min_value=lo, max_value=hi)
        config[f"{task} ±"] = cc.NumberColumn(f"{task} ±", format="%.3f",
                                              help="Half-width of the 95% CI")
    return config


def _paper_columns(url: str, table: pd.DataFrame) -> pd.DataFrame:
    """The paper's columns (AMU, Select, T/V/A, synergy, AMG, Overall) beside each ranked run of
    a suite board, formatted as ``eval-anything report --format paper`` formats them."""
    cells = []
    for run_id in table["run_id"]:
        try:
            record = rows_as_records([run_row(data.results(url, str(run_id)))])[0]
        except PaperLayoutError:
            record = {}
        cells.append({k: v for k, v in record.items() if k not in ("model", "origin")})
    paper = pd.DataFrame(cells, index=table.index)
    return pd.concat([table, paper], axis=1)


def _paired(url: str, rows: pd.DataFrame, table: pd.DataFrame, tasks: list[str],
            widths: dict[str, float], lower_better: bool, fallback: str | None
            ) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The board re-ranked by paired tests within item sets (``leaderboard.paired_ranks``) and
    each set's (key, caption saying which rule ranked it); ``fallback``: why the board keeps the
    CI-overlap rule instead (a group's aggregate is not a mean of paired items)."""
    if fallback is not None or table["score"].isna().all():
        why = fallback or "no score to rank"
        return table.assign(**{"item set": "-"}), [("-", f"CI overlap: {why}")]
    if len(tasks) == 1 and data.group_tasks(tasks[0]):  # a group: split by its tasks' items
        runs = [str(r) for r in table["run_id"]]
        everything = data.leaderboard_rows(url)
        sets = paired_ranks.group_item_sets(everything, runs, data.group_tasks(tasks[0]))
        ranked = paired_ranks.ranked_table(table, sets, lower_better)
        return ranked, [(s.key, f"items: {s.n_items} over the suite's tasks, fingerprint "
                         f"{s.fingerprint} · {sets.rule(s)}") for s in sets.sets]
    cols = [c for c in ("run_id", "task", "task_fingerprint") if c in rows.columns]
    ranking = data.paired_ranking(url, rows[cols], tuple(tasks), tuple(sorted(widths.items())))
    ranked = paired_ranks.ranked_table(table, ranking, lower_better)
    captions = [(s.key, f"{s.caption} · {ranking.rule(s)}") for s in ranking.sets]
    return ranked, captions


def _with_differences(url: str, rows: pd.DataFrame, table: pd.DataFrame, tasks: list[str],
                      widths: dict[str, float], key: str) -> pd.DataFrame:
    """The difference column: a baseline picker and every row's paired difference to it."""
    ids = [str(r) for r in table["run_id"]]
    default = paired_ranks.default_baseline(table)
    labels = dict(zip(ids, table["model"], strict=True))
    picker, _ = st.columns([3, 2])
    baseline = picker.selectbox(
        "Difference to", ids, index=ids.index(default) if default in ids else 0,
        key=f"baseline:{key}", format_func=lambda r: f"{labels.get(r, r)} · {r[:8]}",
        help="Baseline row: the others show their paired difference to it (same items), with "
        "its 95% CI; by default the training run's first checkpoint, else the best row.")
    cols = [c for c in ("run_id", "task", "task_fingerprint") if c in rows.columns]
    diffs = data.differences_vs(url, baseline, rows[cols], tuple(tasks),
                                tuple(sorted(widths.items())))
    out = paired_ranks.difference_columns(table, diffs, baseline)
    return out.assign(**{
        "Δ": ["-" if pd.isna(d) else f"{d:+.3f}" for d in out["Δ vs baseline"]],
        "Δ 95% CI": [note if pd.isna(low) else f"[{low:+.3f}, {high:+.3f}]" for low, high, note
                     in zip(out["Δ low"], out["Δ high"], out["Δ note"], strict=True)]})


SHOWN_DROP = ["step", "Δ vs baseline", "Δ low", "Δ high", "Δ note", "item set", "created_at"]
FIRST = ["rank", "model", "score", "Δ", "Δ 95% CI", "n", "training run", "run_id", "ci_low",
         "ci_high", "tied", "trend"]
# behind the "Secondary columns" toggle, so rank, score, difference and run id fit at 1280 px
SECONDARY = ["ci_low", "ci_high", "tied", "trend"]
# the paper's per-category columns of a suite board: behind the "Secondary columns" toggle, so
# the ranked score, the difference and the run id stay in view at 1280 px
PAPER_SECONDARY = ["P", "R", "IF", "S", "T", "V", "A", "T-V", "T-A", "V-A"]


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Primary columns first (rank, model, score, difference, CI), then the rest; the
    secondary ones only when the toggle is on."""
    if not st.session_state.get("show_secondary", False):
        table = table.drop(columns=[c for c in SECONDARY if c in table.columns])
    head = [c for c in FIRST if c in table.columns]
    out = table[head + [c for c in table.columns if c not in head]]
    if "training run" in out.columns:
        if out["training run"].isna().all():  # nothing to say: the width goes to the score
            return out.drop(columns=["training run"])
        out = out.assign(**{"training run": out["training run"].fillna("-")})
    return out


def _show_sets(url: str, table: pd.DataFrame, captions: list[tuple[str, str]], key: str,
               top: int | None, decorate: Any) -> None:
    """One table per item set (runs on different items never share a rank), captioned with the
    set and the rule that ranked it."""
    for i, (set_key, caption) in enumerate(captions):
        part = table if set_key == "-" else table[table["item set"] == set_key]
        if part.empty:
            continue
        shown = part if top is None else part.head(top)
        st.caption(caption)
        shown = decorate(_ordered(shown))
        shown = shown.assign(run_id=shown["run_id"].astype(str).str[:8])
        shown = shown.drop(columns=[c for c in SHOWN_DROP if c in shown.columns])
        st.dataframe(shown, column_config=column_config(shown, []), hide_index=True,
                     width="stretch", key=key if i == 0 else f"{key}:{set_key}")
        if len(shown) < len(part):
            st.caption(f"top {len(shown)} of {len(part)} shown: pick this board above to see all")


def _board(url: str, filtered: pd.DataFrame, board: str, key: str,
           top: int | None = None) -> pd.DataFrame:
    """One suite's or task's leaderboard: its runs with a score, ranked; ``top`` rows shown."""
    scales = data.scales()
    rows, unscored = ranking.board_rows(filtered, board)
    scale = scales.get(board)
    kind = "suite" if board in data.paper_groups() else str(rows["kind"].iloc[0])
    about = f"{kind} · primary metric {rows['primary_metric'].iloc[0]}"
    about += f" · scale {scale.label()}" if scale is not None else " · no declared scale"
    about += f" · {rows['run_id'].nunique()} run(s) ranked"
    st.subheader(md_escape(board))
    st.caption(about)
    table = ranking.board_table(rows, board, scales).drop(columns=[board, f"{board} ±"])
    lower_better = scale is not None and not scale.higher_is_better
    fallback = None
    if kind != "task" and not data.group_tasks(board):
        fallback = "a group's score aggregates its tasks, not paired items (no difference column)"
    table, captions = _paired(url, rows, table, [board], {}, lower_better, fallback)
    if kind == "task":  # a group pairs no items: no difference column
        table = _with_differences(url, rows, table, [board], {}, key)

    def decorate(shown: pd.DataFrame) -> pd.DataFrame:
        shown = overlap_marks.with_overlap(url, shown, overlap_marks.board_tasks(board))
        if kind != "suite":
            return shown
        paper = _paper_columns(url, shown)
        secondary = st.session_state.get("show_secondary", False)
        return paper if secondary else paper.drop(
            columns=[c for c in PAPER_SECONDARY if c in paper.columns])

    _show_sets(url, table, captions, key, top, decorate)
    if unscored:
        st.caption(f"{unscored} run(s) hold {board} with every item unscored: not ranked "
                   "(the sample browser shows why)")
    return table


def _mean_board(url: str, filtered: pd.DataFrame, show_ci: bool) -> pd.DataFrame:
    tasks = sorted(filtered["task"].unique())
    scales = data.scales()
    plan = ranking.score_plan(filtered, ranking.MEAN, scales)
    if plan.kind == "refused":
        st.warning(plan.message)
    elif plan.kind == "normalized":
        st.info(plan.message)
    table = ranking.board_table(filtered, ranking.MEAN, scales)
    widths = ({t: s.max - s.min for t, s in plan.scales.items()}
              if plan.kind == "normalized" else {})
    groups = sorted(set(filtered.loc[filtered["kind"] != "task", "task"]))
    fallback = None
    if plan.kind == "refused":
        fallback = "the mean is refused"
    elif groups:
        fallback = f"the mean includes groups ({', '.join(groups)}), which pair no items"
    table, captions = _paired(url, filtered, table, tasks, widths, False, fallback)
    if fallback is None:
        table = _with_differences(url, filtered, table, tasks, widths, "board")

    def decorate(shown: pd.DataFrame) -> pd.DataFrame:
        return shown if show_ci else shown.drop(columns=[f"{t} ±" for t in tasks])

    for set_key, caption in captions:
        part = table if set_key == "-" else table[table["item set"] == set_key]
        if part.empty:
            continue
        st.caption(caption)
        shown = decorate(_ordered(part)).assign(run_id=part["run_id"].astype(str).str[:8])
        shown = shown.drop(columns=[c for c in SHOWN_DROP if c in shown.columns])
        st.dataframe(shown, column_config=column_config(table, tasks), hide_index=True,
                     width="stretch", key="board" if set_key == captions[0][0]
                     else f"board:{set_key}")
    return table


def render(url: str) -> None:
    rows = data.leaderboard_rows(url)
    filtered = _filters(rows)
    st.header("Leaderboard")
    if filtered.empty:
        st.info("No results match these filters.")
        return
    boards = ranking.board_names(filtered, data.paper_groups())
    options = [ALL_BOARDS, *boards, ranking.MEAN]
    from_link("rank_on", "board", options)
    if st.session_state.get("rank_on") not in options:
        st.session_state["rank_on"] = ALL_BOARDS
    board = st.selectbox("Leaderboard of", options, key="rank_on",
                         help="Every suite and task, one board each; one of them in full; or the "
                         "mean of the filtered tasks. A board ranks only runs with its score.")
    to_link("board", None if board == ALL_BOARDS else board)
    table: pd.DataFrame | None = None
    st.toggle("Secondary columns", value=False, key="show_secondary",
              help="The score's CI bounds, tie counts, the training curve and a suite's "
              "per-category paper columns (P, R, IF, S, T, V, A, T-V, T-A, V-A)")
    if board == ALL_BOARDS:
        first = ranking.first_screen_boards(boards, data.group_members())
        for name in first[:MAX_BOARDS]:
            _board(url, filtered, name, key=f"board:{name}", top=TOP_ROWS)
        if len(boards) > min(len(first), MAX_BOARDS):
            st.caption(f"{len(boards) - min(len(first), MAX_BOARDS)} more boards (the parts "
                       "of the suites above, and any past the first twelve): pick one above.")
    elif board == ranking.MEAN:
        show_ci = st.toggle("Show CI half-widths", value=False, key="show_ci")
        table = _mean_board(url, filtered, show_ci)
    else:
        table = _board(url, filtered, board, key="board")
    st.caption(
        "Rank = 1 + the number of runs on the same items (same task fingerprint and sample ids: "
        "one table per item set) that a paired test finds better, Holm-corrected across the "
        "board's pairs; where runs cannot be paired (no per-sample records, a group's "
        "aggregate) rows whose 95% CIs overlap share a rank, and the caption says so. "
        "Δ = paired difference to the baseline row with its 95% CI. Model = its name or "
        "folder name, the step of its training run, and the first characters of its identity "
        "hash (the full path is on the "
        "Reproducibility page). The mean board: rows missing a task are unranked; tasks of "
        "different declared scales are normalized to 0-1 first, tasks without a declared "
        "scale are never averaged."
    )
    left, right = st.columns(2)
    if table is not None:
        left.download_button("Download table (CSV)",
                             table.drop(columns=["trend"]).to_csv(index=False),
                             file_name="leaderboard.csv", mime="text/csv", key="csv_table")
    right.download_button("Download all rows (CSV)", filtered.to_csv(index=False),
                          file_name="leaderboard_rows.csv", mime="text/csv", key="csv_rows")
