"""Two runs side by side: per-task paired difference with CI (the gate's statistics, computed by
:func:`eval_anything.stats.run_pair.compare_records` like the board's difference column), and
the items where they disagree, each with its input and target beside both outputs. Long ids
are shortened so both outputs stay in view at 1280 px (the full id is in each item's header)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.core.content import text_of
from eval_anything.core.results import SampleRecord, primary_score_name
from eval_anything.gate.inputs import RunSource
from eval_anything.gate.verdict import GateInputError
from eval_anything.leaderboard import data
from eval_anything.leaderboard.render import md_escape, show_parts, show_text

MAX_SHOWN = 20
SHORT_ID = 12


def short_id(sample_id: str) -> str:
    """A sample id as the table shows it: whole when short, else its first characters + '…'."""
    return sample_id if len(sample_id) <= SHORT_ID else sample_id[:SHORT_ID - 2] + "…"


def _diff_table(report: object) -> pd.DataFrame:
    return pd.DataFrame([
        {"task": c.task, "verdict": c.verdict, "n pairs": c.n_pairs, "A": c.baseline_mean,
         "B": c.candidate_mean, "B - A": c.diff, "CI low": c.ci_low, "CI high": c.ci_high,
         "p (Holm)": c.p_holm, "method": c.method}
        for c in report.tasks  # type: ignore[attr-defined]
    ])


def disagreements(a: RunSource, b: RunSource, task: str) -> pd.DataFrame:
    """Items scored differently by the two runs on the task's primary score."""
    score = primary_score_name(a.results.tasks[task], a.records(task))
    b_by = {r.sample_id: r for r in b.records(task)}
    rows = []
    for ra in a.records(task):
        rb = b_by.get(ra.sample_id)
        if rb is None or score is None:
            continue
        va_v, vb_v = ra.score_value(score), rb.score_value(score)
        if va_v != vb_v:
            rows.append({"sample_id": ra.sample_id, "A": va_v, "B": vb_v,
                         "output A": text_of(ra.output), "output B": text_of(rb.output)})
    return pd.DataFrame(rows, columns=["sample_id", "A", "B", "output A", "output B"])


def _value(record: SampleRecord, score: str | None) -> str:
    value = record.score_value(score) if score else None
    return "unscored" if value is None else f"{score}={value:g}"


def render(url: str) -> None:
    st.header("Compare two runs")
    runs = data.runs(url)
    ids = list(runs["run_id"])
    if len(ids) < 2:
        st.info("Push at least two runs to compare them.")
        return

    def label(rid: str) -> str:
        return data.run_label(runs, rid)

    a_id = st.selectbox("Run A (baseline)", ids, index=1, key="cmp_a", format_func=label)
    b_id = st.selectbox("Run B (candidate)", ids, index=0, key="cmp_b", format_func=label)
    margin = st.number_input("Margin", 0.0, 10.0, 0.01, step=0.005, format="%.3f", key="cmp_m")
    a, b = data.run_source(url, a_id), data.run_source(url, b_id)
    try:
        report = data.compare_report(url, a_id, b_id, margin)
    except GateInputError as e:
        st.warning(str(e))
        return
    for w in report.warnings:
        st.text(f"warning: {w}")
    table = _diff_table(report)
    numbers = {c: st.column_config.NumberColumn(c, format="%.4f")
               for c in ("A", "B", "B - A", "CI low", "CI high", "p (Holm)")}
    st.dataframe(table, hide_index=True, width="stretch", key="cmp_table", column_config=numbers)
    st.text(f"gate verdict (margin {margin:g}, alpha 0.05, Holm): {report.verdict}")
    task = st.selectbox("Disagreements in task", list(table["task"]), key="cmp_task")
    if task is None:
        return
    diff = disagreements(a, b, task)
    st.text(f"{len(diff)} items scored differently")
    shown = diff.assign(sample_id=diff["sample_id"].map(short_id))
    st.dataframe(shown, hide_index=True, width="stretch", key="cmp_diff", column_config={
        "sample_id": st.column_config.TextColumn("sample", width="small"),
        "A": st.column_config.NumberColumn("A", width="small"),
        "B": st.column_config.NumberColumn("B", width="small"),
        "output A": st.column_config.TextColumn("output A", width="medium"),
        "output B": st.column_config.TextColumn("output B", width="medium")})
    score_name = primary_score_name(a.results.tasks[task], a.records(task))
    a_by = {r.sample_id: r for r in a.records(task)}
    b_by = {r.sample_id: r for r in b.records(task)}
    for sid in list(diff["sample_id"])[:MAX_SHOWN]:
        with st.expander(md_escape(sid)):
            item, left, right = st.columns(3)
            with item:  # the input and target, once: both runs answered the same item
                st.text("input")
                show_parts(a_by[sid].input, url, a_id, None)
                if a_by[sid].target is not None:
                    st.text("target")
                    show_text(a_by[sid].target)
            with left:
                st.text(f"A: {_value(a_by[sid], score_name)}")
                show_parts(a_by[sid].output, url, a_id, None)
            with right:
                st.text(f"B: {_value(b_by[sid], score_name)}")
                show_parts(b_by[sid].output, url, b_id, None)
