"""Score versus training step, per training run and task, with 95% CI bands."""

from __future__ import annotations

import streamlit as st

from eval_anything.leaderboard import charts, data, ranking
from eval_anything.leaderboard.render import md_escape


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
        st.dataframe(curve, hide_index=True, width="stretch")
