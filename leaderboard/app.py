"""The eval-anything leaderboard (Streamlit).

    streamlit run leaderboard/app.py -- --store postgresql://user@host/db
    eval-anything leaderboard --store runs.sqlite

Pages: the leaderboards (one per suite or task), the paper's results-table layout, the tasks
(description, modalities, scale, judge roles), training curves, task drilldown, sample browser,
run comparison and reproducibility. The page and its filters are in the URL, to share a view.
Reads the store only; never runs a model.
"""

from __future__ import annotations

import streamlit as st

from eval_anything.errors import UserError
from eval_anything.leaderboard import data
from eval_anything.leaderboard.settings import store_url
from eval_anything.leaderboard.views import (
    board,
    compare,
    drilldown,
    paper,
    repro,
    samples,
    tasks,
    training,
)
from eval_anything.store.config import redact

VIEWS = {
    "Leaderboard": board.render,
    "Paper table": paper.render,
    "Tasks": tasks.render,
    "Training runs": training.render,
    "Task drilldown": drilldown.render,
    "Sample browser": samples.render,
    "Compare runs": compare.render,
    "Reproducibility": repro.render,
}


def main() -> None:
    st.set_page_config(page_title="eval-anything leaderboard", layout="wide")
    url = store_url()
    st.title("eval-anything leaderboard")
    st.sidebar.text(f"store: {redact(url)}")
    if st.sidebar.button("Refresh data", key="refresh"):
        data.clear()
    try:
        rows = data.leaderboard_rows(url)
    except UserError as e:  # e.g. a store file that does not exist: say so, create nothing
        st.error(str(e))
        return
    if rows.empty:
        st.info("The store holds no runs yet. Push one: eval-anything push RUN_DIR")
        return
    linked = st.query_params.get("view")
    if linked in VIEWS and "view" not in st.session_state:
        st.session_state["view"] = linked  # deep link: ?view=Compare+runs
    view = st.sidebar.radio("View", list(VIEWS), key="view")
    if st.query_params.get("view") != view:
        st.query_params["view"] = view
    VIEWS[view](url)


main()
