"""Merge the run directories of data-parallel shards into one run.

``run --shard i/n`` evaluates ``samples[i::n]`` of every task (after ``--limit``), and writes the
task fingerprint of the *whole* task, so shards of one task share it. Merging checks that the
shards belong together (same model identity, same run settings, same task fingerprints, shard
indices of one ``n`` without overlap), concatenates their sample logs and media, and recomputes
every metric from the merged per-sample records with the task's own metric list, so the merged
metrics are those an unsharded run gives (means, clustered standard errors and CIs are functions
of the per-sample values, not of how they were split).

lm-eval tasks (``lm_eval:<name>``) keep lm-eval's metrics: those lm-eval aggregates by a mean are
recomputed from the merged per-sample scores (lm-eval's stderr of a mean is the same formula as
ours); a task with any other aggregation (f1, bleu, perplexity...) cannot be merged from shards
and is refused.
"""

from __future__ import annotations

import filecmp
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval_anything.core.results import (
    MEDIA_DIR,
    CacheUse,
    Results,
    SampleRecord,
    TaskResult,
    choose_primary_metric,
)
from eval_anything.core.results_files import (
    atomic_write_text,
    read_results,
    read_sample_records,
    samples_path,
    write_results,
    write_sample_records,
)
from eval_anything.errors import UserError
from eval_anything.run.folder_lock import LOCK_FILE, FolderLock
from eval_anything.run.reduce import reduce_groups, task_metrics
from eval_anything.run.run_dir import copy_files, prepare_run_dir
from eval_anything.spec.catalog import LM_EVAL_PREFIX, load_catalog
from eval_anything.spec.sources import load_samples
from eval_anything.spec.task import TaskSpec, fingerprint
from eval_anything.stats.intervals import MetricValue, mean_with_ci

MERGE_FILE = "merge.json"
# RunSpec fields every shard must share (batch size may differ: it does not change answers)
SPEC_FIELDS = ("model", "model_args", "tasks", "judges", "limit", "seed", "gen_overrides",
               "judge_repeats")


class MergeError(UserError):
    """Shards that do not belong to one run; the message names the folders and the field."""


def merge_runs(
    run_dirs: Sequence[Path | str],
    output_dir: Path | str,
    include_paths: Sequence[Path | str] = (),
    allow_partial: bool = False,
) -> Results:
    """Merge shard run directories into ``output_dir`` and return the merged results.

    ``include_paths`` must name the folders the shards' tasks came from when those are not
    bundled (the metric list is read from the task file). ``allow_partial`` merges a subset of
    the shards (the result then covers only their samples).
    """
    dirs = [Path(d) for d in run_dirs]
    if not dirs:
        raise MergeError("merge: give at least one shard run directory")
    out = Path(output_dir)
    if out.exists() and any(f.name != LOCK_FILE for f in out.iterdir()):
        raise MergeError(f"--output-dir {out}: folder is not empty; give a new folder")
    shards = [read_results(d) for d in dirs]
    _check_same_run(dirs, shards)
    shard_ids = _check_shard_indices(dirs, shards, allow_partial)

    catalog = load_catalog(include_paths)
    first = shards[0]
    task_results: dict[str, TaskResult] = {}
    specs: dict[str, TaskSpec] = {}
    merged_logs: dict[str, list[SampleRecord]] = {}
    for name in first.tasks:  # every check and every read first: nothing is written on failure
        _check_fingerprints(name, dirs, shards)
        records = merged_logs[name] = _merged_records(name, dirs)
        parts = [s.tasks[name] for s in shards]
        if name.startswith(LM_EVAL_PREFIX):
            task_results[name] = _merge_lm_eval_task(name, parts, records, shard_ids)
            continue
        tspec = _task_spec(catalog, name, first, parts[0].task_fingerprint)
        specs[name] = tspec
        task_results[name] = _merge_task(tspec, parts, records, shard_ids)

    groups = reduce_groups(list(first.groups), catalog, task_results, specs)
    run_spec = first.spec.model_copy(update={"shard": None})
    with FolderLock(out, what="merge output folder"):
        return _write_merged(out, dirs, shards, first, run_spec, task_results, groups,
                             merged_logs)


def _write_merged(
    out: Path, dirs: list[Path], shards: list[Results], first: Results, run_spec: Any,
    task_results: dict[str, TaskResult], groups: dict[str, Any],
    merged_logs: dict[str, list[SampleRecord]],
) -> Results:
    for name, records in merged_logs.items():
        _copy_media(name, dirs, out)
        write_sample_records(samples_path(out, name), records)
    run_id = prepare_run_dir(out, run_spec, first.model.identity, first.lineage)
    merged = Results(
        run_id=run_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        spec=run_spec,
        model=first.model,
        environment=first.environment,
        lineage=first.lineage,
        tasks=task_results,
        groups=groups,
        timings=_timings(shards),
        usage=_sum_usage(shards),
        cache=CacheUse.total(s.cache for s in shards),
    )
    write_results(out, merged)
    atomic_write_text(
        out / MERGE_FILE,
        json.dumps(
            {
                "merged_at": merged.created_at,
                "shards": [
                    {"dir": str(d.resolve()), "run_id": s.run_id, "shard": s.spec.shard}
                    for d, s in zip(dirs, shards, strict=True)
                ],
            },
            indent=2,
        ),
    )
    return merged


# ---------------------------------------------------------------- checks


def _check_same_run(dirs: list[Path], shards: list[Results]) -> None:
    first, d0 = shards[0], dirs[0]
    for d, s in zip(dirs[1:], shards[1:], strict=True):
        if s.model.identity != first.model.identity:
            raise MergeError(
                f"{d}: model identity {s.model.identity[:12]} differs from {d0} "
                f"({first.model.identity[:12]}): shards of one run evaluate the same model"
            )
        a, b = first.spec.model_dump(mode="json"), s.spec.model_dump(mode="json")
        for field in SPEC_FIELDS:
            if a.get(field) != b.get(field):
                raise MergeError(
                    f"{d}/results.json: field 'spec.{field}' is {b.get(field)!r}, but "
                    f"{a.get(field)!r} in {d0}: merge only shards of one run"
                )
        if set(s.tasks) != set(first.tasks):
            raise MergeError(
                f"{d}: holds tasks {sorted(s.tasks)}, {d0} holds {sorted(first.tasks)}; "
                "a shard is incomplete (rerun it into the same folder to resume it)"
            )
        if s.lineage != first.lineage:
            raise MergeError(f"{d}: field 'lineage' differs from {d0}")


def parse_shard_field(value: str | None, where: Path) -> tuple[int, int]:
    if value is None:
        raise MergeError(
            f"{where}/results.json: field 'spec.shard' is empty: this is not a shard run "
            "(run it with --shard I/N)"
        )
    i, _, n = value.partition("/")
    return int(i), int(n)


def _check_shard_indices(dirs: list[Path], shards: list[Results], allow_partial: bool) -> list[str]:
    seen: dict[int, Path] = {}
    total = None
    for d, s in zip(dirs, shards, strict=True):
        i, n = parse_shard_field(s.spec.shard, d)
        if total is None:
            total = n
        elif n != total:
            raise MergeError(
                f"{d}: shard {s.spec.shard} is one of {n}, but {dirs[0]} is one of {total}"
            )
        if i in seen:
            raise MergeError(f"{d}: shard {i}/{n} is given twice (also {seen[i]})")
        seen[i] = d
    assert total is not None
    missing = sorted(set(range(total)) - set(seen))
    if missing and not allow_partial:
        raise MergeError(
            f"merge: shards {', '.join(f'{i}/{total}' for i in missing)} are missing; "
            "give every shard's folder, or --allow-partial to merge only these"
        )
    return [f"{i}/{total}" for i in sorted(seen)]


def _check_fingerprints(name: str, dirs: list[Path], shards: list[Results]) -> None:
    fp0 = shards[0].tasks[name].task_fingerprint
    for d, s in zip(dirs[1:], shards[1:], strict=True):
        fp = s.tasks[name].task_fingerprint
        if fp != fp0:
            raise MergeError(
                f"{d}: task {name!r} has fingerprint {fp[:12]}, {dirs[0]} has {fp0[:12]}: the "
                "task's spec or data changed between shards; rerun the shards on one version"
            )


def _task_spec(catalog: Any, name: str, first: Results, want_fp: str) -> TaskSpec:
    """The task spec whose metric list the merged metrics use; it must be the very version the
    shards ran (same fingerprint), or the merged metrics would silently differ."""
    spec = catalog.tasks.get(name)
    if spec is None:
        raise MergeError(
            f"merge: task {name!r} is not bundled; pass --include-path with the folder of its "
            "task YAML"
        )
    fp = fingerprint(spec, load_samples(spec, first.spec.limit))
    if fp != want_fp:
        raise MergeError(
            f"{spec.file}: task {name!r} now has fingerprint {fp[:12]}, the shards ran "
            f"{want_fp[:12]}: merge with the task version the shards used"
        )
    return spec


# ---------------------------------------------------------------- records and media


def _merged_records(name: str, dirs: list[Path]) -> list[SampleRecord]:
    """Round-robin over the shards' logs, which restores the unsharded order ``samples[i::n]``
    came from; a sample id in two shards means the shards overlap."""
    logs = [read_sample_records(d, name) for d in dirs]
    owner: dict[str, Path] = {}
    merged: list[SampleRecord] = []
    for j in range(max((len(x) for x in logs), default=0)):
        for d, log in zip(dirs, logs, strict=True):
            if j >= len(log):
                continue
            rec = log[j]
            if rec.sample_id in owner:
                raise MergeError(
                    f"{d}: sample {rec.sample_id!r} of task {name!r} is also in "
                    f"{owner[rec.sample_id]}: the shards overlap"
                )
            owner[rec.sample_id] = d
            merged.append(rec)
    return merged


def _copy_media(name: str, dirs: list[Path], out: Path) -> None:
    """Output media live at ``media/<task>/<sample>-<i>.<ext>``: names never clash across
    shards unless two shards wrote the same sample, which :func:`_merged_records` refuses."""

    def same_or_refuse(f: Path, dest: Path) -> None:
        if not filecmp.cmp(f, dest, shallow=False):
            raise MergeError(f"{f}: clashes with a different file from another shard")

    for d in dirs:
        copy_files(d / MEDIA_DIR / name, out / MEDIA_DIR / name, on_existing=same_or_refuse)


# ---------------------------------------------------------------- metrics


def _merge_task(
    spec: TaskSpec, parts: list[TaskResult], records: list[SampleRecord], shard_ids: list[str]
) -> TaskResult:
    from eval_anything.judges.calibration.consistency import internal_agreement

    metrics, unscored = task_metrics(spec, records)
    first = parts[0]
    return first.model_copy(
        update={
            "judge_agreement": internal_agreement(records),  # over every shard's items
            "n": len(records),
            "n_unscored": unscored,
            "metrics": metrics,
            "primary_metric": choose_primary_metric(metrics, spec.primary_metric),
            "input_modalities": sorted({m for p in parts for m in p.input_modalities}),
            "details": {**first.details, "merged_shards": shard_ids},
            "cache": CacheUse.total(p.cache for p in parts),
        }
    )


def _merge_lm_eval_task(
    name: str, parts: list[TaskResult], records: list[SampleRecord], shard_ids: list[str]
) -> TaskResult:
    """lm-eval metrics whose aggregation is a mean, recomputed from the merged records."""
    first = parts[0]
    if first.details.get("lm_eval_group"):
        raise MergeError(
            f"task {name!r}: an lm-eval group's aggregate cannot be rebuilt from shards; request "
            "its member tasks (lm_eval:<task>) in the sharded run, or run the group unsharded"
        )
    aggregations: dict[str, str] = first.details.get("aggregations", {})
    if not aggregations:
        raise MergeError(
            f"task {name!r}: its result carries no 'details.aggregations' (written by an older "
            "eval-anything?); rerun it unsharded"
        )
    odd = {m: a for m, a in aggregations.items() if a != "mean"}
    if odd:
        raise MergeError(
            f"task {name!r}: metrics {odd} are not means of per-sample scores, so shards cannot "
            "be merged into lm-eval's value; run this task unsharded"
        )
    metrics: dict[str, MetricValue] = {}
    for metric in aggregations:
        vals = [r.scores[metric].value for r in records if metric in r.scores]
        metrics[metric] = mean_with_ci([float(v) for v in vals if v is not None])
    return first.model_copy(
        update={
            "n": len(records),
            "metrics": metrics,
            "details": {**first.details, "merged_shards": shard_ids},
        }
    )


def _timings(shards: list[Results]) -> dict[str, float]:
    """Per task: machine time summed over shards; ``total``: the slowest shard (wall time when
    shards run side by side)."""
    out: dict[str, float] = {}
    for s in shards:
        for k, v in s.timings.items():
            if k != "total":
                out[k] = round(out.get(k, 0.0) + v, 3)
    out["total"] = max((s.timings.get("total", 0.0) for s in shards), default=0.0)
    return out


def _sum_usage(shards: list[Results]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in shards:
        for k, v in s.usage.items():
            out[k] = out.get(k, 0) + v
    return out
