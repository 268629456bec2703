"""One task across runs: the primary metric first (one row per run, charted with its CI), every
other metric (per-dimension means too) a toggle away, the measured agreement of the judge behind
each run's score (panel, repeats, labels) and the mark of a score whose task overlaps the
checkpoint's training data.

Models are named by their short names (the full path is on the Reproducibility page) and runs by
the first characters of their id, so the table fits a 1280 px screen; the secondary metrics are
listed one per row, never as one column each, for the same reason. A run is left out only when a
newer run scored the same checkpoint on the same items (``ranking.latest_per_checkpoint``; a
group's items are its member tasks' fingerprints): runs of one model on different items (another
``--limit``) are both shown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import charts, data, ranking
from eval_anything.leaderboard.links import from_link, to_link
from eval_anything.leaderboard.render import SHORT_ID, model_label, run_choice_label
from eval_anything.leaderboard.views import overlap_marks


def primary_table(sub: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per run, best first: model, run id, training run, items, the primary metric and
    its 95% CI."""
    ordered = sub.sort_values("value", ascending=False, na_position="last")
    return pd.DataFrame({
        "model": [model_label(m, s) for m, s in zip(ordered["model_name"], ordered["step"],
                                                      strict=True)],
        "run": ordered["run_id"].astype(str).str[:SHORT_ID],
        "training run": ordered["training_run_id"].fillna("-"),
        "n": ordered["n"].astype("Int64"),
        metric: ordered["value"],
        "95% CI": [_ci(lo, hi) for lo, hi in zip(ordered["ci_low"], ordered["ci_high"],
                                                 strict=True)],
        "run_id": ordered["run_id"],
    }).reset_index(drop=True)


def _ci(low: object, high: object) -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):  # type: ignore[call-overload]
        return "-"
    return f"[{float(low):.3f}, {float(high):.3f}]"  # type: ignore[arg-type]


def other_metrics(url: str, task: str, shown: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Every metric but the primary one, one row per (run, metric): a long list fits the screen
    however many metrics a task has."""
    metrics = data.task_metrics(url, task)
    metrics = metrics[metrics["run_id"].isin(shown["run_id"]) & (metrics["metric"] != primary)]
    labels = dict(zip(shown["run_id"], shown["model"], strict=True))
    return pd.DataFrame({
        "model": metrics["run_id"].map(labels),
        "run": metrics["run_id"].astype(str).str[:SHORT_ID],
        "metric": metrics["metric"],
        "value": metrics["value"],
        "95% CI": [_ci(lo, hi) for lo, hi in zip(metrics["ci_low"], metrics["ci_high"],
                                                 strict=True)],
        "n": metrics["n"].astype("Int64"),
    }).sort_values(["metric", "value"], ascending=[True, False]).reset_index(drop=True)


def render(url: str) -> None:
    st.header("Task drilldown")
    rows = data.leaderboard_rows(url)
    tasks = sorted(rows["task"].unique())
    from_link("dd_task", "task", tasks)
    task = st.selectbox("Task", tasks, key="dd_task")
    to_link("task", task)
    if task is None:
        return
    sub = ranking.latest_per_checkpoint(rows[rows["task"] == task])
    first = sub.iloc[0]
    metric = str(first["primary_metric"] or "value")
    st.caption(f"{first['kind']} · primary metric {metric} · input "
               f"{first['input_modalities'] or '-'} · output {first['output_modalities'] or '-'}"
               f" · {sub['run_id'].nunique()} run(s)")
    table = primary_table(sub, metric)
    shown = overlap_marks.with_overlap(url, table, [task])
    config = {metric: st.column_config.NumberColumn(metric, format="%.4f"),
              "run": st.column_config.TextColumn("run", help="First characters of the run id"),
              "run_id": None}
    if overlap_marks.COLUMN in shown.columns:
        config[overlap_marks.COLUMN] = st.column_config.TextColumn(
            overlap_marks.COLUMN, help=overlap_marks.HELP)
    st.dataframe(shown, hide_index=True, width="stretch", key="dd_table", column_config=config)
    others = data.task_metrics(url, task)
    n_other = others.loc[others["metric"] != metric, "metric"].nunique()
    if n_other and st.toggle(f"Show the other {n_other} metric(s)", value=False, key="dd_all"):
        st.dataframe(other_metrics(url, task, table, metric), hide_index=True, width="stretch",
                     key="dd_metrics", column_config={
                         "value": st.column_config.NumberColumn("value", format="%.4f")})
    top = table.head(30)
    chart = top.assign(label=top["model"] + " · " + top["run"]).rename(columns={metric: "value"})
    chart = chart.merge(sub[["run_id", "ci_low", "ci_high"]], on="run_id")
    st.altair_chart(charts.task_bars(chart[["label", "value", "ci_low", "ci_high", "n"]],
                                     label="label", value_title=metric), width="stretch")
    _judge_agreement(url, task, list(top["run_id"]),
                     dict(zip(top["run_id"], top["model"], strict=True)))
    if first["kind"] == "task":
        runs = data.runs(url)
        pick = st.selectbox("Browse samples of run", list(top["run_id"]), key="dd_run",
                            format_func=lambda rid: run_choice_label(runs, rid))
        st.button("Open in sample browser", key="dd_open", on_click=_open, args=(pick, task))


def _judge_agreement(url: str, task: str, run_ids: list[str], labels: dict[str, str]) -> None:
    """The judge agreement each shown run measured for the task, beside its score."""
    rows = []
    for rid in run_ids:
        result = data.results(url, rid).tasks.get(task)
        for a in [] if result is None else result.judge_agreement:
            ci = "" if a.ci_low is None else f" [{a.ci_low:.3f}, {a.ci_high:.3f}]"
            rows.append({"model": labels[rid], "run": rid[:SHORT_ID], "judge": a.judge or "-",
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
