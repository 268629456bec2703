"""The sample browser: one run's items of a task, inputs and outputs rendered, judge shown.

Runs are picked by model short name and the first characters of their id; an item's title shows
the first characters of its id (content-hash ids run to 64), the full id inside the item."""

from __future__ import annotations

import streamlit as st

from eval_anything.core.results import SampleRecord, primary_score_name
from eval_anything.leaderboard import data
from eval_anything.leaderboard.render import (
    md_escape,
    run_choice_label,
    short_sample_id,
    show_parts,
    show_scores,
    show_text,
)

PAGE_SIZE = 10
FILTERS = ["all", "unscored", "below max score", "text contains"]


def _primary_value(record: SampleRecord, score: str | None) -> float | None:
    return record.score_value(score) if score else None


def _from_link(key: str, param: str, allowed: list[str]) -> None:
    """Preselect from a deep link (``?view=Sample+browser&run=ID&task=NAME``), once."""
    value = st.query_params.get(param)
    if value in allowed and key not in st.session_state:
        st.session_state[key] = value


def render(url: str) -> None:
    st.header("Sample browser")
    runs = data.runs(url)
    run_ids = list(runs["run_id"])
    _from_link("sb_run", "run", run_ids)
    run_id = st.selectbox("Run", run_ids, key="sb_run",
                          format_func=lambda rid: run_choice_label(runs, rid))
    if run_id is None:
        return
    results = data.results(url, run_id)
    tasks = list(results.tasks)
    if not tasks:
        st.info("This run has no tasks.")
        return
    _from_link("sb_task", "task", tasks)
    if st.session_state.get("sb_task") not in tasks:
        st.session_state["sb_task"] = tasks[0]
    task = st.selectbox("Task", tasks, key="sb_task")
    records = data.sample_records(url, run_id, task)
    score = primary_score_name(results.tasks[task], records)
    how = st.radio("Show", FILTERS, horizontal=True, key="sb_filter")
    if how == "unscored":
        records = [r for r in records if any(s.value is None for s in r.scores.values())]
    elif how == "below max score" and score:
        values = [v for r in records if (v := _primary_value(r, score)) is not None]
        top = max(values, default=None)
        records = [r for r in records if (v := _primary_value(r, score)) is not None and v != top]
    elif how == "text contains":
        needle = st.text_input("Text", key="sb_text").lower()
        records = [r for r in records if needle in r.model_dump_json().lower()]
    pages = max(1, -(-len(records) // PAGE_SIZE))
    page = st.number_input("Page", 1, pages, 1, key="sb_page") if pages > 1 else 1
    st.text(f"{len(records)} samples")
    stored_dir = runs.loc[runs["run_id"] == run_id, "run_dir"].iloc[0]
    run_dir = stored_dir if isinstance(stored_dir, str) else None
    for i, rec in enumerate(records[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]):
        value = _primary_value(rec, score)
        title = (f"{short_sample_id(rec.sample_id)}  ·  "
                 f"{score}={'unscored' if value is None else f'{value:g}'}")
        with st.expander(md_escape(title), expanded=i == 0):
            if short_sample_id(rec.sample_id) != rec.sample_id:
                st.caption(f"sample id: {md_escape(rec.sample_id)}")
            left, right = st.columns(2)
            with left:
                st.text("input")
                show_parts(rec.input, url, run_id, run_dir)
                if rec.target is not None:
                    st.text("target")
                    show_text(rec.target)
            with right:
                st.text("output")
                show_parts(rec.output, url, run_id, run_dir)
            show_scores(rec)
