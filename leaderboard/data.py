"""Cached reads of the store for the pages. ``st.cache_data`` keys every loader by the store URL
and its arguments, so moving between pages or changing filters costs no query; the sidebar's
refresh button (and a short TTL) picks up new pushes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from eval_anything.core.results import Results, SampleRecord, primary_score_name
from eval_anything.gate.inputs import RunSource
from eval_anything.gate.verdict import GateReport, gate
from eval_anything.leaderboard import paired_ranks
from eval_anything.spec.task import ScaleSpec
from eval_anything.store import Store, open_store, queries

TTL_S = 60


@st.cache_resource(show_spinner=False)
def store(url: str) -> Store:
    return open_store(url, create=False)  # a mistyped path is an error, not a new empty store


@st.cache_data(ttl=TTL_S, show_spinner=False)
def leaderboard_rows(url: str) -> pd.DataFrame:
    """The store's rows, each group row carrying the fingerprint of its member tasks' items."""
    from eval_anything.leaderboard.ranking import with_group_fingerprints

    return with_group_fingerprints(queries.leaderboard_rows(store(url)), group_tasks)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def runs(url: str) -> pd.DataFrame:
    return queries.runs_frame(store(url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def task_metrics(url: str, task: str) -> pd.DataFrame:
    return queries.task_metrics_frame(store(url), task)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def results(url: str, run_id: str) -> Results:
    return queries.load_results(store(url), run_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def sample_records(url: str, run_id: str, task: str) -> list[SampleRecord]:
    return queries.sample_records(store(url), run_id, task)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def media(url: str, run_id: str, path: str) -> tuple[bytes, str | None] | None:
    return queries.media_bytes(store(url), run_id, path)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run_details(url: str, run_id: str) -> dict[str, Any]:
    return queries.run_details(store(url), run_id)


@st.cache_resource(show_spinner=False)
def scales() -> dict[str, ScaleSpec]:
    """The declared scale of every bundled (and plugin) task and group, by name."""
    from eval_anything.scoring.scales import scales_of
    from eval_anything.spec.catalog import load_catalog

    return scales_of(load_catalog())


@st.cache_resource(show_spinner=False)
def paper_groups() -> tuple[str, ...]:
    """Groups whose runs fill the paper's table (aggregated by ``overall`` or ``s_amg``)."""
    from eval_anything.spec.catalog import load_catalog

    groups = load_catalog().groups.values()
    return tuple(sorted(g.group for g in groups if g.aggregate.name in ("overall", "s_amg")))


@st.cache_resource(show_spinner=False)
def group_members() -> dict[str, set[str]]:
    """Every task and group inside each paper-layout group (nested groups included)."""
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog()
    out = {}
    for group in paper_groups():
        tasks, groups = catalog.expand([group])
        out[group] = (set(tasks) | set(groups)) - {group}
    return out


@st.cache_resource(show_spinner=False)
def group_tasks(group: str) -> frozenset[str]:
    """The tasks inside any catalog group (nested groups expanded); empty for a task or a
    group this machine's catalog does not know."""
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog()
    if not catalog.is_group(group):
        return frozenset()
    tasks, _ = catalog.expand([group])
    return frozenset(tasks)


def run_source(url: str, run_id: str) -> RunSource:
    """A run for the gate's statistics, reading through the caches above."""
    return RunSource(run_id, results(url, run_id), lambda task: sample_records(url, run_id, task))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def compare_report(url: str, a: str, b: str, margin: float) -> GateReport:
    """The gate's paired comparison of two stored runs (forced: the page shows mismatches as
    warnings rather than refusing); cached because the bootstrap is the costly part."""
    return gate(run_source(url, a), run_source(url, b), margin=margin, force=True)


def run_task(url: str) -> paired_ranks.RunTask:
    """(run, task) -> (primary per-sample score, records), read through the caches above."""

    def load(run_id: str, task: str) -> tuple[str | None, list[SampleRecord]]:
        result = results(url, run_id).tasks.get(task)
        if result is None:
            return None, []
        records = sample_records(url, run_id, task)
        return (primary_score_name(result, records) if records else None), records

    return load


def directions() -> dict[str, bool]:
    """Task -> higher is better, from the declared scales (undeclared: higher is better)."""
    return {name: scale.higher_is_better for name, scale in scales().items()}


@st.cache_data(ttl=TTL_S, show_spinner=False)
def paired_ranking(url: str, rows: pd.DataFrame, tasks: tuple[str, ...],
                   widths: tuple[tuple[str, float], ...] = ()) -> paired_ranks.PairedRanking:
    """The board's item sets, pair tests and paired ranks (:mod:`leaderboard.paired_ranks`);
    cached because every pair is a bootstrap or McNemar test on the shared items."""
    return paired_ranks.paired_ranking(rows, tasks, run_task(url), directions(), dict(widths))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def differences_vs(url: str, baseline: str, rows: pd.DataFrame, tasks: tuple[str, ...],
                   widths: tuple[tuple[str, float], ...] = ()
                   ) -> dict[str, paired_ranks.PairDifference | str]:
    """Every other run of a board against ``baseline`` (the difference column)."""
    return paired_ranks.differences_vs(baseline, rows, tasks, run_task(url), directions(),
                                       dict(widths))


def run_label(runs_df: pd.DataFrame, run_id: str) -> str:
    """``model @ step N · run id · date`` for pickers."""
    row = runs_df[runs_df["run_id"] == run_id]
    if row.empty:
        return run_id
    r = row.iloc[0]
    from eval_anything.leaderboard.ranking import short_model_name

    step = f" @ step {int(r['step'])}" if pd.notna(r["step"]) else ""
    name = short_model_name(r["model_name"])
    return f"{name}{step} · {run_id[:8]} · {str(r['created_at'])[:16]}"


def clear() -> None:
    st.cache_data.clear()


def _judge_roles(spec: Any) -> str:
    """``role (default binding)`` for each judge role the task's scorers need."""
    from eval_anything import registry
    from eval_anything.errors import UserError

    roles: list[str] = []
    for ref in spec.scorers:
        try:
            scorer = registry.scorer_class(ref.name)(**ref.args)
        except (UserError, TypeError, ValueError) as e:
            return f"(scorer {ref.name!r} could not be built here: {e})"
        roles += [r for r in scorer.required_roles() if r not in roles]
    return ", ".join(f"{r} (default {spec.judges[r]})" if r in spec.judges else r
                     for r in roles) or "-"


@st.cache_resource(show_spinner=False)
def task_catalog() -> dict[str, list[dict[str, Any]]]:
    """Every bundled (and plugin) task and group as rows for the Tasks page: name, description,
    modalities, declared scale and judge roles (tasks); members and aggregate (groups)."""
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog()
    tasks = [{
        "name": name, "description": spec.description or "-",
        "input": ", ".join(spec.input_modalities), "output": ", ".join(spec.output_modalities),
        "primary metric": spec.primary_metric or "-",
        "scale": "-" if spec.scale is None else spec.scale.label(),
        "judge roles": _judge_roles(spec),
    } for name, spec in sorted(catalog.tasks.items())]
    groups = [{
        "name": name, "description": spec.description or "-",
        "aggregate": spec.aggregate.name,
        "scale": "-" if spec.scale is None else spec.scale.label(),
        "tasks": ", ".join(spec.tasks),
    } for name, spec in sorted(catalog.groups.items())]
    return {"tasks": tasks, "groups": groups}
