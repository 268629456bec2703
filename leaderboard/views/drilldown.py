"""One task across runs: every metric (per-dimension means too) and the primary one charted,
with the measured agreement of the judge behind each run's score (panel, repeats, labels) and
the mark of a score whose task overlaps the checkpoint's training data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import charts, data, ranking
from eval_anything.leaderboard.views import overlap_marks


def render(url: str) -> None:
    st.header("Task drilldown")
    rows = data.leaderboard_rows(url)
    tasks = sorted(rows["task"].unique())
    task = st.selectbox("Task", tasks, key="dd_task")
    if task is None:
        return
    sub = ranking.latest_per_checkpoint(rows[rows["task"] == task])
    first = sub.iloc[0]
    st.text(
        f"kind: {first['kind']}   primary metric: {first['primary_metric']}   "
        f"input: {first['input_modalities'] or '-'}   output: {first['output_modalities'] or '-'}"
    )
    metrics = data.task_metrics(url, task)
    metrics = metrics[metrics["run_id"].isin(sub["run_id"])]
    values = metrics.pivot_table(index="run_id", columns="metric", values="value",
                                 aggfunc="first")
    info = metrics.drop_duplicates("run_id").set_index("run_id")[
        ["model_name", "training_run_id", "step"]]
    wide = overlap_marks.with_overlap(url, info.join(values).reset_index(), [task],
                                      "training_run_id")
    st.dataframe(wide, hide_index=True, width="stretch", key="dd_table")
    top = sub.sort_values("value", ascending=False).head(30).copy()
    top["run"] = [
        f"{m}{'' if pd.isna(s) else f' @ {int(s)}'} ({r[:8]})"
        for m, s, r in zip(top["model_name"], top["step"], top["run_id"], strict=True)
    ]
    st.altair_chart(charts.task_bars(top[["run", "value", "ci_low", "ci_high", "n"]]),
                    width="stretch")
    _judge_agreement(url, task, list(top["run_id"]), dict(zip(top["run_id"], top["run"],
                                                              strict=True)))
    if first["kind"] == "task":
        pick = st.selectbox("Browse samples of run", list(top["run_id"]), key="dd_run",
                            format_func=lambda rid: data.run_label(data.runs(url), rid))
        st.button("Open in sample browser", key="dd_open", on_click=_open, args=(pick, task))


def _judge_agreement(url: str, task: str, run_ids: list[str], labels: dict[str, str]) -> None:
    """The judge agreement each shown run measured for the task, beside its score."""
    rows = []
    for rid in run_ids:
        result = data.results(url, rid).tasks.get(task)
        for a in [] if result is None else result.judge_agreement:
            ci = "" if a.ci_low is None else f" [{a.ci_low:.3f}, {a.ci_high:.3f}]"
            rows.append({"run": labels[rid], "judge": a.judge or "-",
                         "measured by": f"{a.source}: {a.statistic}",
                         "agreement": "-" if a.value is None else f"{a.value:.3f}{ci}",
                         "n": a.n, "within-item SD": a.within_item_sd})
    if rows:
        st.caption("Judge agreement (1 = perfect, 0 = chance; docs/judges.md)")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="dd_agreement")
    else:
        st.caption("Judge agreement: not measured for these runs (a judge panel, "
                   "--judge-repeats, or `eval-anything agreement --write` measure it).")


def _open(run_id: str, task: str) -> None:
    """A button callback: it runs before the next script run builds the widgets, the only
    moment their session-state keys may be set."""
    st.session_state["sb_run"] = run_id
    st.session_state["sb_task"] = task
    st.session_state["view"] = "Sample browser"
