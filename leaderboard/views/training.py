"""Score versus training step, per training run and task, with 95% CI bands, and each
checkpoint's paired difference to the run's first checkpoint (the board's difference column)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import charts, data, paired_ranks, ranking
from eval_anything.leaderboard.render import md_escape


def with_differences(url: str, rows: pd.DataFrame, curve: pd.DataFrame) -> pd.DataFrame:
    """``Δ vs first step`` and its 95% CI per checkpoint and task: the paired difference to the
    lowest step's run on the same items (blank, with the reason, where there is none)."""
    parts = []
    for task, part in curve.groupby("task", sort=False):
        first = str(part.sort_values("step").iloc[0]["run_id"])
        mine = rows[(rows["task"] == task) & rows["run_id"].isin(part["run_id"])]
        cols = [c for c in ("run_id", "task", "task_fingerprint") if c in mine.columns]
        diffs = data.differences_vs(url, first, mine[cols], (str(task),))
        with_d = paired_ranks.difference_columns(part, diffs, first)
        parts.append(with_d.assign(**{"Δ 95% CI": [
            note if pd.isna(low) else f"[{low:+.3f}, {high:+.3f}]"
            for low, high, note in zip(with_d["Δ low"], with_d["Δ high"], with_d["Δ note"],
                                       strict=True)]}))
    out = pd.concat(parts) if parts else curve
    out = out.rename(columns={"Δ vs baseline": "Δ vs first step"})
    return out.drop(columns=[c for c in ("Δ low", "Δ high", "Δ note") if c in out.columns])


def render(url: str) -> None:
    st.header("Training runs")
    rows = data.leaderboard_rows(url)
    trainings = sorted(rows["training_run_id"].dropna().unique())
    if not trainings:
        st.info("No run carries training lineage yet (push checkpoints scored by a trainer, or "
                "`eval-anything run --lineage RUN:STEP`).")
        return
    chosen = st.multiselect("Training runs", trainings, default=trainings[:3], key="tr_runs")
    tasks = sorted(rows[rows["training_run_id"].isin(chosen)]["task"].unique())
    picked = st.multiselect("Tasks", tasks, default=tasks[:6], key="tr_tasks")
    for run in chosen:
        curve = ranking.training_curve(rows, run)
        curve = curve[curve["task"].isin(picked)] if picked else curve
        st.subheader(md_escape(run))
        if curve.empty:
            st.text("no checkpoints with these tasks")
            continue
        st.altair_chart(charts.score_vs_step(curve), width="stretch")
        table = with_differences(url, rows, curve)
        delta = table["Δ vs first step"] if "Δ vs first step" in table.columns else None
        table = table.assign(run_id=table["run_id"].astype(str).str[:8])
        if delta is not None:  # text, so the baseline row reads "-" rather than "None"
            table["Δ vs first step"] = ["-" if pd.isna(d) else f"{d:+.3f}" for d in delta]
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "run_id": st.column_config.TextColumn("run id")})
