"""Read side of the store: what the leaderboard pages, the gate and the CLI ask for.

Frames come back as pandas DataFrames built from one SQL query each; the main page's query
(:func:`leaderboard_rows`) reads only ``task_results`` joined to ``runs`` so it stays fast on a
store of thousands of runs.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from eval_anything.core.results import Results, SampleRecord
from eval_anything.store import schema as s
from eval_anything.store.engine import Store

RUN_COLUMNS = (
    "run_id", "created_at", "pushed_at", "model_name", "model_adapter", "model_identity",
    "input_modalities", "output_modalities", "training_run_id", "step", "checkpoint_path",
    "git_commit", "git_dirty", "run_dir",
)


def _frame(store: Store, stmt: Any) -> pd.DataFrame:
    with store.read() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        rows = result.all()
    # column-wise construction: about twice as fast as row records for wide result sets
    data = zip(*rows, strict=True) if rows else ([] for _ in columns)
    return pd.DataFrame(dict(zip(columns, map(list, data), strict=True)), columns=columns)


def count_runs(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(s.runs)).scalar_one())


def runs_frame(store: Store) -> pd.DataFrame:
    """One row per run (no results JSON), newest first."""
    cols = [s.runs.c[c] for c in RUN_COLUMNS]
    return _frame(store, select(*cols).order_by(s.runs.c.created_at.desc()))


def leaderboard_rows(store: Store) -> pd.DataFrame:
    """One row per (run, task or group): the primary metric with its CI, plus the run's model,
    lineage and the task's modalities. The main page pivots and ranks this."""
    r, t = s.runs, s.task_results
    stmt = select(
        t.c.run_id, r.c.model_name, r.c.model_identity, r.c.model_adapter,
        r.c.training_run_id, r.c.step, r.c.created_at, t.c.task, t.c.kind, t.c.primary_metric,
        t.c.value, t.c.stderr, t.c.ci_low, t.c.ci_high, t.c.n,
        t.c.input_modalities, t.c.output_modalities, t.c.task_fingerprint,
    ).join(r, r.c.run_id == t.c.run_id)
    return _frame(store, stmt)


def task_metrics_frame(store: Store, task: str) -> pd.DataFrame:
    """Every metric of ``task`` across runs (per-dimension means included), for the drilldown."""
    m, r = s.metrics, s.runs
    stmt = (
        select(m.c.run_id, r.c.model_name, r.c.training_run_id, r.c.step, r.c.created_at,
               m.c.metric, m.c.value, m.c.stderr, m.c.ci_low, m.c.ci_high, m.c.n, m.c.clustered)
        .join(r, r.c.run_id == m.c.run_id)
        .where(m.c.task == task)
    )
    return _frame(store, stmt)


def sample_scores_frame(store: Store, run_ids: list[str], task: str) -> pd.DataFrame:
    """Per-sample scores of ``task`` for the given runs (long format)."""
    sc = s.sample_scores
    stmt = select(sc.c.run_id, sc.c.sample_id, sc.c.score, sc.c.value, sc.c.unscored_reason,
                  sc.c.judge).where(sc.c.task == task, sc.c.run_id.in_(run_ids))
    return _frame(store, stmt)


def run_tasks(store: Store, run_id: str) -> list[str]:
    with store.read() as conn:
        rows = conn.execute(
            select(s.task_results.c.task)
            .where(s.task_results.c.run_id == run_id, s.task_results.c.kind == "task")
            .order_by(s.task_results.c.task)
        ).all()
    return [row[0] for row in rows]


def resolve_run_id(store: Store, ref: str) -> str | None:
    """``ref`` itself when it is a stored run id, else the one run id it is a prefix of."""
    with store.read() as conn:
        exact = conn.execute(select(s.runs.c.run_id).where(s.runs.c.run_id == ref)).first()
        if exact is not None:
            return str(exact[0])
        like = ref.replace("%", "").replace("_", "") + "%"
        rows = conn.execute(
            select(s.runs.c.run_id).where(s.runs.c.run_id.like(like)).limit(2)
        ).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def load_results(store: Store, run_id: str) -> Results:
    """The run's ``results.json`` exactly as pushed."""
    with store.read() as conn:
        row = conn.execute(select(s.runs.c.results_json).where(s.runs.c.run_id == run_id)).first()
    if row is None:
        raise KeyError(f"no run {run_id!r} in store {store!r}")
    return Results.model_validate_json(row[0])


def sample_records(store: Store, run_id: str, task: str) -> list[SampleRecord]:
    """The run's sample records of ``task``, ordered by sample id."""
    with store.read() as conn:
        rows = conn.execute(
            select(s.samples.c.record_json)
            .where(s.samples.c.run_id == run_id, s.samples.c.task == task)
            .order_by(s.samples.c.sample_id)
        ).all()
    return [SampleRecord.model_validate_json(row[0]) for row in rows]


def media_bytes(store: Store, run_id: str, path: str) -> tuple[bytes, str | None] | None:
    """The stored bytes (and MIME type) of a media file a record of ``run_id`` points to."""
    rm, m = s.run_media, s.media
    with store.read() as conn:
        row = conn.execute(
            select(m.c.data, m.c.mime).join(rm, rm.c.sha256 == m.c.sha256)
            .where(rm.c.run_id == run_id, rm.c.path == path)
        ).first()
    return None if row is None else (bytes(row[0]), row[1])


def run_details(store: Store, run_id: str) -> dict[str, Any]:
    """Reproducibility facts of one run: commit, dirty flag, packages, fingerprints, judges."""
    results = load_results(store, run_id)
    return {
        "run_id": results.run_id,
        "created_at": results.created_at,
        "model": results.model.model_dump(mode="json"),
        "spec": results.spec.model_dump(mode="json"),
        "environment": results.environment.model_dump(mode="json"),
        "lineage": results.lineage.model_dump(mode="json") if results.lineage else None,
        "tasks": {
            name: {
                "task_version": tr.task_version,
                "task_fingerprint": tr.task_fingerprint,
                "n": tr.n,
                "judges": [j.model_dump(mode="json") for j in tr.judges],
            }
            for name, tr in results.tasks.items()
        },
    }


def results_json(store: Store, run_id: str) -> str:
    """Pretty JSON of the stored results (for download)."""
    return json.dumps(json.loads(load_results(store, run_id).model_dump_json()), indent=2)
