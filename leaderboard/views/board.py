"""The main page: one leaderboard per suite or task, ranked by CI upper bound, with tie groups.

The first screen shows one board per suite and task, suites first (``eval-anything``, then
``eval-anything-mini``, ranked on Overall beside the paper's columns): a board ranks only the
runs that have its score, so no row shows a blank score or no rank, and a board never mixes
scales. The mean over several tasks stays available as the last board. A score whose task
overlaps the checkpoint's training data carries a mark (``⚠ overlap 3/24``). The board and the
filters live in the URL (``?board=qa&models=alpha,beta``), so a view can be shared.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data, ranking
from eval_anything.leaderboard.links import from_link, to_link
from eval_anything.leaderboard.render import md_escape
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
    latest = side.checkbox("Latest run per checkpoint", value=True, key="f_latest")
    out = ranking.filter_rows(rows, tasks, modalities, models, training)
    if not groups:
        out = out[out["kind"] == "task"]
    return ranking.latest_per_checkpoint(out) if latest else out


def column_config(table: pd.DataFrame, tasks: list[str]) -> dict[str, Any]:
    cc = st.column_config
    low, high = ranking.score_range(table["score"])
    config: dict[str, Any] = {
        "rank": cc.NumberColumn("rank", help="1 + rows significantly better (CI upper bound)"),
        "tied": cc.NumberColumn("tied", help="Other rows sharing this rank (overlapping CIs)"),
        "score": cc.ProgressColumn("score", format="%.3f", min_value=low, max_value=high),
        "ci_low": cc.NumberColumn("CI low", format="%.3f"),
        "ci_high": cc.NumberColumn("CI high", format="%.3f"),
        "n": cc.NumberColumn("n", help="Items scored in this run's task", format="%d"),
        "trend": cc.LineChartColumn("training curve", help="Score by step in this training run"),
        "step": cc.NumberColumn("step", format="%d"),
        "created_at": None,
        "run_id": cc.TextColumn("run id", width="small"),
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
    shown = table if top is None else table.head(top)
    # the label carries the step; a dash, not "None", where a run has no training run
    shown = shown.drop(columns=["step"])
    shown = overlap_marks.with_overlap(url, shown, overlap_marks.board_tasks(board))
    shown = shown.assign(**{"training run": shown["training run"].fillna("-")})
    if kind == "suite":
        shown = _paper_columns(url, shown)
    config = column_config(shown, [])
    if overlap_marks.COLUMN in shown.columns:
        config[overlap_marks.COLUMN] = st.column_config.TextColumn(
            overlap_marks.COLUMN, help=overlap_marks.HELP)
    st.dataframe(shown, column_config=config, hide_index=True, width="stretch", key=key)
    notes = []
    if len(shown) < len(table):
        notes.append(f"top {len(shown)} of {len(table)} shown: pick {board} above to see all")
    if unscored:
        notes.append(f"{unscored} run(s) hold {board} with every item unscored: not ranked "
                     "(the sample browser shows why)")
    if notes:
        st.caption("; ".join(notes))
    return table


def _mean_board(filtered: pd.DataFrame, show_ci: bool) -> pd.DataFrame:
    tasks = sorted(filtered["task"].unique())
    scales = data.scales()
    plan = ranking.score_plan(filtered, ranking.MEAN, scales)
    if plan.kind == "refused":
        st.warning(plan.message)
    elif plan.kind == "normalized":
        st.info(plan.message)
    table = ranking.board_table(filtered, ranking.MEAN, scales)
    shown = table if show_ci else table.drop(columns=[f"{t} ±" for t in tasks])
    st.dataframe(shown, column_config=column_config(table, tasks), hide_index=True,
                 width="stretch", key="board")
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
    if board == ALL_BOARDS:
        first = ranking.first_screen_boards(boards, data.group_members())
        for name in first[:MAX_BOARDS]:
            _board(url, filtered, name, key=f"board:{name}", top=TOP_ROWS)
        if len(boards) > min(len(first), MAX_BOARDS):
            st.caption(f"{len(boards) - min(len(first), MAX_BOARDS)} more boards (the parts "
                       "of the suites above, and any past the first twelve): pick one above.")
    elif board == ranking.MEAN:
        show_ci = st.toggle("Show CI half-widths", value=False, key="show_ci")
        table = _mean_board(filtered, show_ci)
    else:
        table = _board(url, filtered, board, key="board")
    st.caption(
        "Rank = 1 + the number of rows whose 95% CI lies entirely above this row's; rows with "
        "overlapping CIs share a rank. Model = its name or folder name, the step of its "
        "training run, and the first characters of its identity hash (the full path is on the "
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
