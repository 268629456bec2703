"""Put a run on the store: exactly ``RUN_DIR/results.json`` plus ``RUN_DIR/samples/*.jsonl``.

A push is one transaction that replaces everything stored under the run id, so pushing twice
stores the run once and pushing a re-scored run updates it in place. Rows are built before the
transaction opens (reading media, hashing) so the write lock is held only for the inserts.
"""

from __future__ import annotations

import hashlib
import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from eval_anything.core.results import Results, SampleRecord
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import UserError
from eval_anything.store import schema as s
from eval_anything.store.engine import Store, open_store

MAX_MEDIA_BYTES = 50 * 1024 * 1024


def push(
    run_dir: Path | str, store_url: str | None = None, store: Store | None = None,
    max_media_bytes: int = MAX_MEDIA_BYTES,
) -> str:
    """Store the run in ``run_dir`` (idempotent by run id); returns the run id."""
    run_dir = Path(run_dir)
    results = read_results(run_dir)
    records = {task: read_sample_records(run_dir, task) for task in results.tasks}
    if store is not None:
        return ingest(store, results, records, run_dir, max_media_bytes)
    with open_store(store_url) as opened:
        return ingest(opened, results, records, run_dir, max_media_bytes)


def ingest(
    store: Store,
    results: Results,
    records: dict[str, list[SampleRecord]],
    run_dir: Path | None = None,
    max_media_bytes: int = MAX_MEDIA_BYTES,
) -> str:
    """Store already-loaded results and records (what :func:`push` does after reading)."""
    rows = build_rows(results, records, run_dir)
    blobs, links = collect_media(results.run_id, records, run_dir, max_media_bytes)

    def write(conn: Connection) -> None:
        for table in s.RUN_CHILDREN:
            conn.execute(delete(table).where(table.c.run_id == results.run_id))
        conn.execute(delete(s.runs).where(s.runs.c.run_id == results.run_id))
        conn.execute(insert(s.runs), [rows["runs"][0]])
        for table in (s.task_results, s.metrics, s.judges, s.samples, s.sample_scores):
            if rows[table.name]:
                conn.execute(insert(table), rows[table.name])
        if blobs:
            _insert_media(conn, store.dialect, blobs)
            conn.execute(insert(s.run_media), links)

    store.write(write, lock_key=f"run:{results.run_id}")
    return results.run_id


def _check_unique(results: Results, records: dict[str, list[SampleRecord]]) -> None:
    """Duplicate keys would fail the insert with an opaque constraint error; name them."""
    for task, recs in records.items():
        ids = [r.sample_id for r in recs]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise UserError(f"run {results.run_id}: task {task!r} has sample_id {dup!r} twice "
                             "(read records with read_sample_records, which keeps the last)")
    for task, tr in results.tasks.items():
        roles = [j.role for j in tr.judges]
        if len(set(roles)) != len(roles):
            raise UserError(f"run {results.run_id}: results.json field 'tasks.{task}.judges' "
                             f"lists a role twice ({roles}); one judge per role")
    clash = set(results.tasks) & set(results.groups)
    if clash:
        raise UserError(f"run {results.run_id}: {sorted(clash)} is both a task and a group")


def build_rows(
    results: Results, records: dict[str, list[SampleRecord]], run_dir: Path | None
) -> dict[str, list[dict[str, Any]]]:
    """Row dicts per table name for one run."""
    _check_unique(results, records)
    rid = results.run_id
    lineage = results.lineage
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in s.metadata.sorted_tables}
    out["runs"] = [{
        "run_id": rid,
        "created_at": results.created_at,
        "pushed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_name": results.model.name,
        "model_adapter": results.model.adapter,
        "model_identity": results.model.identity,
        "input_modalities": ",".join(results.model.input_modalities),
        "output_modalities": ",".join(results.model.output_modalities),
        "training_run_id": lineage.training_run_id if lineage else None,
        "step": lineage.step if lineage else None,
        "checkpoint_path": lineage.checkpoint_path if lineage else None,
        "git_commit": results.environment.git_commit,
        "git_dirty": results.environment.git_dirty,
        "run_dir": str(Path(run_dir).resolve()) if run_dir is not None else None,
        "results_json": results.model_dump_json(),
    }]
    for name, tr in results.tasks.items():
        primary = tr.primary()
        out["task_results"].append(_task_row(
            rid, name, "task", tr.task_version, tr.task_fingerprint, tr.n, primary,
            tr.metrics, tr.input_modalities, tr.output_modalities, tr.cluster_key,
        ))
        out["metrics"] += _metric_rows(rid, name, tr.metrics)
        out["judges"] += [
            {"run_id": rid, "task": name, "role": j.role, "identity": j.identity,
             "template_hash": j.template_hash}
            for j in tr.judges
        ]
        for rec in records.get(name, []):
            out["samples"].append({
                "run_id": rid, "task": name, "sample_id": rec.sample_id, "cluster": rec.cluster,
                "input_ref": rec.input_ref, "prompt_hash": rec.prompt_hash,
                "record_json": rec.model_dump_json(),
            })
            out["sample_scores"] += [
                {"run_id": rid, "task": name, "sample_id": rec.sample_id, "score": score,
                 "value": sr.value, "unscored_reason": sr.unscored_reason, "judge": sr.judge}
                for score, sr in rec.scores.items()
            ]
    for name, gr in results.groups.items():
        members = [results.tasks[t] for t in gr.tasks if t in results.tasks]
        out["task_results"].append(_task_row(
            rid, name, "group", "", "", sum(m.n for m in members), next(iter(gr.metrics), None),
            gr.metrics, sorted({x for m in members for x in m.input_modalities}),
            sorted({x for m in members for x in m.output_modalities}), None,
        ))
        out["metrics"] += _metric_rows(rid, name, gr.metrics)
    return out


def _task_row(
    rid: str, name: str, kind: str, version: str, fingerprint: str, n: int,
    primary: str | None, metrics: dict[str, Any], inputs: list[str], outputs: list[str],
    cluster_key: str | None,
) -> dict[str, Any]:
    mv = metrics.get(primary) if primary else None
    return {
        "run_id": rid, "task": name, "kind": kind, "task_version": version,
        "task_fingerprint": fingerprint, "n": n, "primary_metric": primary,
        "value": _finite(mv.value) if mv else None, "stderr": mv.stderr if mv else None,
        "ci_low": mv.ci_low if mv else None, "ci_high": mv.ci_high if mv else None,
        "input_modalities": ",".join(inputs), "output_modalities": ",".join(outputs),
        "cluster_key": cluster_key,
    }


def _metric_rows(rid: str, task: str, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"run_id": rid, "task": task, "metric": name, "value": _finite(mv.value),
         "stderr": mv.stderr, "ci_low": mv.ci_low, "ci_high": mv.ci_high, "n": mv.n,
         "clustered": mv.clustered}
        for name, mv in metrics.items()
    ]


def _finite(x: float) -> float | None:
    return None if x != x else x  # NaN (no scored items) is stored as NULL


def collect_media(
    run_id: str, records: dict[str, list[SampleRecord]], run_dir: Path | None, max_bytes: int
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Media files the records point to (inputs by absolute path, outputs relative to the run
    dir), keyed by sha256, plus (run, recorded path) -> sha256 links. Folders (video frames) and
    files over ``max_bytes`` stay references only. Only files that pass are copied: an output
    must lie inside the run folder (symlinks resolved), and every file must decode as the media
    type it claims, so an edited sample log cannot carry ``/etc/passwd`` into the store."""
    from eval_anything.spec.sources import media_problem

    root = Path(run_dir).resolve() if run_dir is not None else None
    blobs: dict[str, dict[str, Any]] = {}
    links: dict[str, str] = {}
    for recs in records.values():
        for rec in recs:
            for part in [*rec.input, *rec.output]:
                path = getattr(part, "path", None)
                if path is None or path in links:
                    continue
                file = Path(path)
                if not file.is_absolute():
                    if root is None:
                        continue
                    file = (root / file).resolve()
                    if not file.is_relative_to(root):
                        continue
                if not file.is_file() or file.stat().st_size > max_bytes:
                    continue
                if media_problem(part.type, file.resolve()) is not None:
                    continue
                data = file.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                mime = getattr(part, "mime", None) or mimetypes.guess_type(file.name)[0]
                blobs.setdefault(digest, {"sha256": digest, "mime": mime, "size": len(data),
                                          "data": data})
                links[path] = digest
    return blobs, [{"run_id": run_id, "path": p, "sha256": d} for p, d in links.items()]


def _insert_media(conn: Connection, dialect: str, blobs: dict[str, dict[str, Any]]) -> None:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(s.media).on_conflict_do_nothing(index_elements=["sha256"])
    conn.execute(stmt, list(blobs.values()))
