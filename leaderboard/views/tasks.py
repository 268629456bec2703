"""The tasks a leaderboard can rank: what each measures (description), what goes in and out
(modalities), the declared scale of its primary metric, and the judge roles its scorers need
(with the task's default bindings), so a reader knows what a score means before comparing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data


def render(url: str) -> None:
    st.header("Tasks")
    rows = data.leaderboard_rows(url)
    stored = rows.groupby("task")["run_id"].nunique().to_dict()
    catalog = data.task_catalog()
    show_all = st.toggle("Show every bundled task (not only those in the store)", value=False,
                         key="tk_all")
    tasks = pd.DataFrame(catalog["tasks"])
    groups = pd.DataFrame(catalog["groups"])
    for frame in (tasks, groups):
        if not frame.empty:
            frame.insert(1, "runs in store", [int(stored.get(n, 0)) for n in frame["name"]])
    if not show_all:
        tasks = tasks[tasks["runs in store"] > 0] if not tasks.empty else tasks
        groups = groups[groups["runs in store"] > 0] if not groups.empty else groups
    st.subheader("Suites and groups")
    st.dataframe(groups, hide_index=True, width="stretch", key="tk_groups")
    st.subheader("Tasks")
    st.dataframe(tasks, hide_index=True, width="stretch", key="tk_tasks")
    known = {t["name"] for t in [*catalog["tasks"], *catalog["groups"]]}
    others = rows[~rows["task"].isin(known)].drop_duplicates("task")
    if not others.empty:
        st.subheader("Other tasks in the store")
        st.caption("Tasks this app's catalog does not hold (lm-eval tasks, task files given by "
                   "path, plugins): only what the store recorded.")
        st.dataframe(pd.DataFrame({
            "name": others["task"], "runs in store": [int(stored[t]) for t in others["task"]],
            "primary metric": others["primary_metric"],
            "input": others["input_modalities"], "output": others["output_modalities"],
        }), hide_index=True, width="stretch", key="tk_others")
