"""The tasks a leaderboard can rank: what each measures (description), what goes in and out
(modalities), the declared scale of its primary metric, and the judge roles its scorers need
(with the task's default bindings), so a reader knows what a score means before comparing.

The tables are static (``st.table``): their long cells (descriptions, member lists, judge
bindings) wrap inside the screen's width instead of running off to the right, so every word is
readable at 1280 px without scrolling sideways."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data
from eval_anything.leaderboard.render import md_escape

RUNS = "runs"  # in the store
ROLES = "judge roles"  # beside the name only: a role's default binding is one long word


def render(url: str) -> None:
    st.header("Tasks")
    rows = data.leaderboard_rows(url)
    stored = rows.groupby("task")["run_id"].nunique().to_dict()
    catalog = data.task_catalog()
    show_all = st.toggle("Show every bundled task (not only those in the store)", value=False,
                         key="tk_all")
    tasks = _modalities(pd.DataFrame(catalog["tasks"]))
    groups = pd.DataFrame(catalog["groups"])
    for frame in (tasks, groups):
        if not frame.empty:
            frame.insert(1, RUNS, [int(stored.get(n, 0)) for n in frame["name"]])
    if not show_all:
        tasks = tasks[tasks[RUNS] > 0] if not tasks.empty else tasks
        groups = groups[groups[RUNS] > 0] if not groups.empty else groups
    st.subheader("Suites and groups")
    _table(groups)
    st.subheader("Tasks")
    _table(tasks.drop(columns=[ROLES]) if not tasks.empty else tasks)
    judged = tasks[tasks[ROLES] != "-"] if not tasks.empty else tasks
    if not judged.empty:
        st.subheader("Judges the tasks need")
        st.caption("Each judge role a task's scorers need, with the task's default binding "
                   "(bind another with --judge ROLE=SPEC; docs/judges.md).")
        _table(judged[["name", ROLES]])
    known = {t["name"] for t in [*catalog["tasks"], *catalog["groups"]]}
    others = rows[~rows["task"].isin(known)].drop_duplicates("task")
    if not others.empty:
        st.subheader("Other tasks in the store")
        st.caption("Tasks this app's catalog does not hold (lm-eval tasks, task files given by "
                   "path, plugins): only what the store recorded.")
        _table(_modalities(pd.DataFrame({
            "name": others["task"], RUNS: [int(stored[t]) for t in others["task"]],
            "primary metric": others["primary_metric"],
            "input": others["input_modalities"].str.replace(",", ", "),
            "output": others["output_modalities"].str.replace(",", ", "),
        })))


def _modalities(frame: pd.DataFrame) -> pd.DataFrame:
    """``input`` and ``output`` as one narrow column, ``text, image → text``."""
    if frame.empty:
        return frame
    joined = [f"{i or '-'} → {o or '-'}" for i, o in zip(frame["input"], frame["output"],
                                                        strict=True)]
    out = frame.drop(columns=["input", "output"])
    out.insert(min(2, len(out.columns)), "modalities", joined)
    return out


def _table(frame: pd.DataFrame) -> None:
    """A static table whose cells wrap. ``st.table`` reads cells as markdown, so each text cell
    is escaped: it is shown as typed (a plugin's description is never interpreted)."""
    if frame.empty:
        st.caption("(none)")
        return
    escaped = frame.map(lambda v: md_escape(v) if isinstance(v, str) else v)
    st.table(escaped.set_index("name"))
