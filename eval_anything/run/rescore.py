"""Re-judge a finished run without regenerating anything (``eval-anything score``).

The sample log holds every model output (media as files under the run directory), so scoring
can be repeated with other judges: the task's samples are reloaded from its source (references,
choices and vote shares live there, not in the log), checked against the run's task fingerprint
and each record's input hash, and every scorer runs again with the new role bindings. No model
adapter is built; judgments go through the judgment cache.

Roles not named keep the run's bindings (its ``--judge`` flags, then the task defaults). The new
run goes to ``output_dir`` (default: a sibling folder ``<run>-rescore-<hash of the bindings>``)
with the media copied (hard links where possible); ``output_dir`` equal to the run directory
rewrites it in place. Files are written atomically: sample logs first, results.json last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import RequestFlow
from eval_anything.core.results import MEDIA_DIR, Results, SampleRecord, TaskResult
from eval_anything.core.results_files import (
    atomic_write_text,
    read_results,
    read_sample_records,
    samples_path,
    write_results,
    write_sample_records,
)
from eval_anything.errors import ConfigError, UserError
from eval_anything.progress import ProgressReporter
from eval_anything.run.cache import ResponseCache, cache_file
from eval_anything.run.folder_lock import LOCK_FILE, FolderLock
from eval_anything.run.pipeline import Stages
from eval_anything.run.reduce import reduce_groups
from eval_anything.run.request_flow import run_flow, scoring_flow
from eval_anything.run.run_dir import RUN_FILE, copy_files, prepare_run_dir
from eval_anything.scoring.base import ScoreContext
from eval_anything.spec.catalog import LM_EVAL_PREFIX, Catalog, load_catalog
from eval_anything.spec.sources import load_samples
from eval_anything.spec.task import TaskSpec, fingerprint


class RescoreError(UserError):
    """A run that cannot be re-judged as asked; the message names the folder, task or role."""


def default_output_dir(run_dir: Path, bindings: dict[str, str]) -> Path:
    digest = hashlib.sha256(json.dumps(bindings, sort_keys=True).encode()).hexdigest()[:8]
    return run_dir.parent / f"{run_dir.name}-rescore-{digest}"


def rescore(
    run_dir: Path | str,
    judges: dict[str, str],
    output_dir: Path | str | None = None,
    include_paths: Sequence[Path | str] = (),
    cache_path: Path | str | None | bool = True,
    batch_size: int | None = None,
    tasks: Sequence[str] | None = None,
    progress: bool = False,
    judge_repeats: int | None = None,
) -> Results:
    """Re-judge ``run_dir`` with ``judges`` (role -> binding) and write the new run.

    ``progress`` shows a bar per task on stderr (items judged, rate, time remaining).

    ``tasks`` limits re-judging to those tasks (the others keep their scores): useful when one
    role serves several tasks and the new judge suits only some (``keyword`` rates AMU only).

    ``judge_repeats`` asks each sampling judge that many times per item (default: as the run
    did, ``spec.judge_repeats``).
    """
    started = time.perf_counter()
    src = Path(run_dir)
    first = read_results(src)  # not a finished run: fails before any lock or write
    out = (
        Path(output_dir)
        if output_dir is not None
        else default_output_dir(src, {**first.spec.judges, **judges})
    )
    with FolderLock(src, what="run folder"):
        if out.resolve() != src.resolve():
            created = not out.exists()
            try:
                with FolderLock(out, what="output folder"):
                    return _rescore(src, judges, out, include_paths, cache_path, batch_size,
                                    tasks, started, progress, judge_repeats)
            except UserError:  # refused before writing: no empty folder left behind
                if created and out.is_dir() and not any(out.iterdir()):
                    out.rmdir()
                raise
        return _rescore(src, judges, out, include_paths, cache_path, batch_size, tasks, started,
                        progress, judge_repeats)


def _check_roles_used(catalog: Catalog, old: Results, judges: dict[str, str],
                      bindings: dict[str, str], tasks: Sequence[str] | None) -> None:
    """A ``--judge ROLE=...`` that no re-judged task asks for is refused before anything is
    scored (as ``run`` refuses it), naming the roles those tasks do have."""
    from eval_anything.run.plan import scorers_and_roles

    wanted: set[str] = set()
    names = [n for n in old.tasks if not n.startswith(LM_EVAL_PREFIX)
             and (tasks is None or n in tasks)]
    for name in names:
        spec = _task_spec(catalog, name, old.tasks[name], old.spec.limit)
        wanted |= set(scorers_and_roles(spec, bindings)[1])
    unused = sorted(set(judges) - wanted)
    if unused:
        has = f"their judge roles are {', '.join(sorted(wanted))}" if wanted else "none is judged"
        raise RescoreError(
            f"--judge {unused[0]}={judges[unused[0]]}: no re-judged task has the judge role "
            f"{unused[0]!r} (tasks: {', '.join(names) or 'none'}; {has}); drop the flag or fix "
            "the role's name"
        )


def _rescore(
    src: Path, judges: dict[str, str], out: Path, include_paths: Sequence[Path | str],
    cache_path: Path | str | None | bool, batch_size: int | None, tasks: Sequence[str] | None,
    started: float, progress: bool = False, judge_repeats: int | None = None,
) -> Results:
    old = read_results(src)
    repeats = old.spec.judge_repeats if judge_repeats is None else judge_repeats
    if repeats < 1:
        raise RescoreError(f"--judge-repeats {repeats}: give 1 or more")
    bindings = {**old.spec.judges, **judges}
    in_place = out.resolve() == src.resolve()
    if not in_place and out.exists() and any(f.name != LOCK_FILE for f in out.iterdir()):
        raise RescoreError(f"--output-dir {out}: folder is not empty; give a new folder")
    catalog = load_catalog(include_paths)
    cache = ResponseCache(cache_file(cache_path))
    built: dict[str, Any] = {}
    task_results: dict[str, TaskResult] = {}
    specs: dict[str, TaskSpec] = {}
    new_logs: dict[str, list[SampleRecord]] = {}
    unknown = sorted(set(tasks or ()) - set(old.tasks))
    if unknown:
        raise RescoreError(
            f"--tasks {', '.join(unknown)}: not in the run (it has {', '.join(old.tasks)})"
        )
    _check_roles_used(catalog, old, judges, bindings, tasks)
    reporter = ProgressReporter(enabled=progress)
    try:
        for name, old_result in old.tasks.items():
            keep = name.startswith(LM_EVAL_PREFIX) or (tasks is not None and name not in tasks)
            if keep:  # lm-eval tasks score themselves; unselected tasks keep their scores
                task_results[name] = old_result
                new_logs[name] = read_sample_records(src, name)
                if name in catalog.tasks:
                    specs[name] = catalog.tasks[name]
                continue
            spec = _task_spec(catalog, name, old_result, old.spec.limit)
            specs[name] = spec
            records, result = _rescore_task(
                spec, src, old_result, old.spec.limit, bindings, built, cache,
                batch_size or old.spec.batch_size, old.run_id, reporter, repeats,
            )
            new_logs[name], task_results[name] = records, result
    finally:
        reporter.close()
        for j in built.values():
            j.close()
        cache.close()

    _, groups = catalog.expand(old.spec.tasks)
    run_spec = old.spec.model_copy(update={"judges": bindings, "judge_repeats": repeats})
    out.mkdir(parents=True, exist_ok=True)
    if not in_place:
        copy_files(src / MEDIA_DIR, out / MEDIA_DIR)  # the run's output media
    for name, records in new_logs.items():
        write_sample_records(samples_path(out, name), records)
    run_id = _run_file(out, run_spec, old, in_place)
    results = old.model_copy(
        update={
            "run_id": run_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "spec": run_spec,
            "tasks": task_results,
            "groups": reduce_groups(groups, catalog, task_results, specs),
            "timings": {**old.timings, "rescore": round(time.perf_counter() - started, 3)},
        }
    )
    write_results(out, results)
    return results


def _task_spec(catalog: Catalog, name: str, old: TaskResult, limit: int | None) -> TaskSpec:
    spec = catalog.tasks.get(name)
    if spec is None:
        raise RescoreError(
            f"task {name!r} of the run is not in the task catalog; pass the folder its YAML is "
            "in with --include-path"
        )
    if spec.version != old.task_version:
        raise RescoreError(
            f"{spec.file}: task {name!r} is version {spec.version} now, the run used version "
            f"{old.task_version}; re-judging needs the same task version"
        )
    return spec


def _rescore_task(
    spec: TaskSpec, src: Path, old: TaskResult, limit: int | None, bindings: dict[str, str],
    built: dict[str, Any], cache: ResponseCache, batch_size: int, old_run_id: str,
    reporter: ProgressReporter | None = None, repeats: int = 1,
) -> tuple[list[SampleRecord], TaskResult]:
    from eval_anything.run.plan import PlannedTask, scorers_and_roles
    from eval_anything.run.runner import judge_for, task_result

    samples = load_samples(spec, limit)
    if fingerprint(spec, samples) != old.task_fingerprint:
        raise RescoreError(
            f"{spec.file}: task {spec.task!r} changed since the run (its spec or data hash "
            "differs from the run's task_fingerprint); re-judge with the task as it was"
        )
    by_id = {s.id: s for s in samples}
    records = read_sample_records(src, spec.task)
    for r in records:
        sample = by_id.get(r.sample_id)
        if sample is None or sample.content_hash() != r.input_ref:
            raise RescoreError(
                f"{samples_path(src, spec.task)}: record {r.sample_id!r} does not match the "
                "task's samples; the log and the task disagree"
            )
    try:
        scorers, roles = scorers_and_roles(spec, bindings)
    except ConfigError as e:
        raise RescoreError(str(e)) from None
    judges = {role: judge_for(built, b, cache, repeats) for role, b in roles.items()}
    ctx = ScoreContext(judges=judges, run_dir=src, task=spec)

    def score(batch: list[SampleRecord]) -> list[SampleRecord]:
        batch_samples = [by_id[r.sample_id] for r in batch]
        outputs = [_output(r) for r in batch]
        scores: list[dict[str, Any]] = [{} for _ in batch]
        for sc in scorers:
            for acc, new in zip(scores, sc.score(batch_samples, outputs, ctx), strict=True):
                acc.update(new)
        return [r.model_copy(update={"scores": s}) for r, s in zip(batch, scores, strict=True)]

    # served judges get their own concurrency (request_flow); local ones batches of batch_size
    rescored: list[SampleRecord] = []
    bar = (reporter or ProgressReporter(enabled=False)).task(spec.task, total=len(records))

    def write(done: list[SampleRecord]) -> None:
        rescored.extend(done)
        bar.advance(len(done))

    flows = [j.request_flow(max(1, batch_size)) for j in judges.values()]
    run_flow(records, RequestFlow.batches(max(1, batch_size)),
             scoring_flow(flows, max(1, batch_size)),
             Stages(answer=lambda batch: batch, score=score, write=write))
    position = {r.sample_id: i for i, r in enumerate(records)}
    rescored.sort(key=lambda r: position[r.sample_id])
    planned = PlannedTask(spec, samples, old.task_fingerprint, scorers, roles)
    result = task_result(planned, rescored, judges)
    result = result.model_copy(update={
        "details": {**old.details, "rescored_from": old_run_id},
        "modality_gaps": old.modality_gaps,  # the same answers: the model's gaps are unchanged
    })
    return rescored, result


def _output(record: SampleRecord) -> ModelOutput:
    meta = record.metadata
    return ModelOutput(
        parts=list(record.output),
        usage=dict(record.usage),
        consumed_modalities=list(record.consumed_modalities),
        error=meta.get("error"),
        choice_logprobs=meta.get("choice_logprobs"),
    )


def _run_file(out: Path, spec: Any, old: Results, in_place: bool) -> str:
    """The run id of the written run: a fresh one in a new folder (a re-judged run is another
    evaluation); in place, run.json keeps its id and records the new bindings, so a later
    resume with them is accepted."""
    if not in_place:
        return prepare_run_dir(out, spec, old.model.identity, old.lineage)
    path = out / RUN_FILE
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.setdefault("run_id", old.run_id)
    data["model_identity"] = old.model.identity
    data["spec"] = spec.model_dump(mode="json")
    atomic_write_text(path, json.dumps(data, indent=2))
    return str(data["run_id"])

