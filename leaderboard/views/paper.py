"""The paper's results-table layout for stored runs of the eval-anything suite (full or mini):
AMU by category, AMU, Select, T/V/A, synergy T-V/T-A/V-A, AMG and Overall, each with its 95%
CI half-width, optionally beside the paper's seven published rows (same rows and formatting as
``eval-anything report --format paper``, from :mod:`eval_anything.scoring.paper_table`).

The paper's sixteen columns do not fit a 1280 px screen in one table, so they are shown as three
that do, each row named by its model's short name and origin (a run's id, first characters, or
"paper"): the summary (AMU, Select, AMG, Overall) first, then AMU by category, then AMG's parts.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data, ranking
from eval_anything.leaderboard.render import SHORT_ID
from eval_anything.scoring.paper_table import (
    PaperLayoutError,
    PaperRow,
    paper_reference,
    rows_as_records,
    run_row,
)

FORMULAS = (
    "P/R/IF/S: AMU categories (1-10); T/V/A: instruction following (0-10); T-V/T-A/V-A: "
    "synergy (0-1). AMU = mean of the four category means; AMG = Select x sum over pairs of "
    "1/2 (S_m1 + S_m2) S_pair; Overall = (AMU + AMG) / 2. ± = half-width of the 95% CI."
)
NAME_COLUMNS = ["model", "origin"]
#: (subheader, columns): each table fits the screen; the summary is the one a reader needs first
TABLES = (
    ("Summary", ["AMU", "Select", "AMG", "Overall"]),
    ("AMU by category", ["P", "R", "IF", "S", "AMU"]),
    ("AMG: instruction following (T/V/A) and synergy", ["T", "V", "A", "T-V", "T-A", "V-A"]),
)


def paper_rows(url: str, rows: pd.DataFrame) -> list[PaperRow]:
    """One row per stored run (latest per checkpoint) that ran an eval-anything group."""
    groups = set(data.paper_groups())
    runs = rows[(rows["kind"] == "group") & rows["task"].isin(groups)]
    runs = ranking.latest_per_checkpoint(runs).sort_values("created_at")
    out: list[PaperRow] = []
    for run_id in dict.fromkeys(runs["run_id"]):
        try:
            out.append(run_row(data.results(url, str(run_id))))
        except PaperLayoutError:
            continue  # a group row without the paper's metrics (a part was unscored)
    return out


def render(url: str) -> None:
    st.header("Paper table")
    rows = data.leaderboard_rows(url)
    mine = paper_rows(url, rows)
    beside = st.toggle("Show the paper's published rows beside", value=True, key="paper_beside")
    show_ci = st.toggle("Show 95% CI half-widths", value=True, key="paper_ci")
    if not mine:
        st.info("No stored run has eval-anything scores yet. Run "
                "`eval-anything run ... --tasks eval-anything` (or eval-anything-mini) and push "
                "it.")
    ref = paper_reference()
    shown = [*mine, *ref.rows] if beside else mine
    if not shown:
        return
    frame = pd.DataFrame(rows_as_records(shown, with_ci=show_ci))
    frame["model"] = [ranking.short_model_name(m) if o != "paper" else m
                      for m, o in zip(frame["model"], frame["origin"], strict=True)]
    frame["origin"] = [o if o == "paper" else f"run {o[:SHORT_ID]}" for o in frame["origin"]]
    for i, (title, columns) in enumerate(TABLES):
        st.subheader(title)
        st.dataframe(frame[NAME_COLUMNS + columns], hide_index=True, width="stretch",
                     key="paper_table" if i == 0 else f"paper_table_{i}")
    st.caption(FORMULAS)
    if beside:
        st.caption(f"Paper rows: {ref.source}. Comparable only with the paper's judges and full "
                   "datasets: our judge prompts are paraphrases, and mini-suite scores come from "
                   "offline stand-in judges.")
