"""The main page: models/checkpoints x tasks, ranked by CI upper bound, with tie groups."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data, ranking

MODALITIES = ["text", "image", "audio", "video"]


def _filters(rows: pd.DataFrame) -> pd.DataFrame:
    side = st.sidebar
    side.subheader("Filters")
    tasks = side.multiselect("Tasks", sorted(rows["task"].unique()), key="f_tasks",
                             placeholder="all tasks")
    modalities = side.multiselect("Modality", MODALITIES, key="f_modalities",
                                  placeholder="any modality")
    models = side.multiselect("Model", sorted(rows["model_name"].unique()), key="f_models",
                              placeholder="all models")
    trainings = sorted(rows["training_run_id"].dropna().unique())
    training = side.multiselect("Training run", trainings, key="f_training",
                                placeholder="all runs")
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
        "trend": cc.LineChartColumn("training curve", help="Score by step in this training run"),
        "step": cc.NumberColumn("step", format="%d"),
        "created_at": None,
    }
    for task in tasks:
        lo, hi = ranking.score_range(table[task])
        config[task] = cc.ProgressColumn(task, format="%.3f", min_value=lo, max_value=hi)
        config[f"{task} ±"] = cc.NumberColumn(f"{task} ±", format="%.3f",
                                              help="Half-width of the 95% CI")
    return config


def render(url: str) -> None:
    rows = data.leaderboard_rows(url)
    filtered = _filters(rows)
    st.header("Leaderboard")
    if filtered.empty:
        st.info("No results match these filters.")
        return
    tasks = sorted(filtered["task"].unique())
    rank_on = st.selectbox("Rank on", [ranking.MEAN, *tasks], key="rank_on")
    show_ci = st.toggle("Show CI half-widths", value=False, key="show_ci")
    scales = data.scales()
    plan = ranking.score_plan(filtered, rank_on, scales)
    if plan.kind == "refused":
        st.warning(plan.message)
    elif plan.kind == "normalized":
        st.info(plan.message)
    table = ranking.board_table(filtered, rank_on, scales)
    shown = table if show_ci else table.drop(columns=[f"{t} ±" for t in tasks])
    st.dataframe(shown, column_config=column_config(table, tasks), hide_index=True,
                 width="stretch", key="board")
    st.caption(
        "Rank = 1 + the number of rows whose 95% CI lies entirely above this row's; rows with "
        "overlapping CIs share a rank. Score = the ranked task's primary metric, or the "
        "unweighted mean of the shown tasks (rows missing a task are unranked); tasks of "
        "different declared scales are normalized to 0-1 first, tasks without a declared "
        "scale are never averaged."
    )
    left, right = st.columns(2)
    left.download_button("Download table (CSV)", table.drop(columns=["trend"]).to_csv(index=False),
                         file_name="leaderboard.csv", mime="text/csv", key="csv_table")
    right.download_button("Download all rows (CSV)", filtered.to_csv(index=False),
                          file_name="leaderboard_rows.csv", mime="text/csv", key="csv_rows")
