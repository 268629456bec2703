"""Altair charts (Streamlit renders them with vega-lite, client side)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def score_vs_step(curve: pd.DataFrame) -> alt.LayerChart:
    """One line per task with its 95% CI as a band; x = training step."""
    base = alt.Chart(curve).encode(
        x=alt.X("step:Q", title="training step"),
        color=alt.Color("task:N", title="task"),
    )
    band = base.mark_area(opacity=0.15).encode(y="ci_low:Q", y2="ci_high:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title="primary metric"),
        tooltip=["task", "step", alt.Tooltip("value:Q", format=".3f"),
                 alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f")],
    )
    return (band + line).properties(height=320)


BAR_STEP = 26  # pixels per bar of task_bars


def task_bars(frame: pd.DataFrame, label: str = "run",
              value_title: str = "value") -> alt.LayerChart:
    """Value per run with the 95% CI as an error bar, best first. Each bar is named by its
    ``label`` column in full (short model names: a label is never cut to a common prefix);
    the value axis is titled ``value_title`` (the metric's name)."""
    order = frame.sort_values("value", ascending=False)[label].tolist()
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelLimit=360)))
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=value_title),
        tooltip=[label, alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f"),
                 alt.Tooltip("ci_high:Q", format=".3f"), "n"],
    )
    errors = base.mark_errorbar().encode(x=alt.X("ci_low:Q", title=value_title), x2="ci_high:Q")
    # a fixed band per bar, so every label has room and none is dropped for overlapping
    return (bars + errors).properties(height=alt.Step(BAR_STEP))
