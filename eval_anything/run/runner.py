"""plan -> build -> execute: the runner behind ``eval_anything.evaluate``.

1. **plan** (:mod:`eval_anything.run.plan`): tasks, samples, scorers and judge bindings resolved
   and checked; a bad input fails here, before any model or file exists.
2. **build**: the response cache, every judge the tasks' roles are bound to, and the adapter
   (unless the caller passed one). What is built here is closed here, on success and on error;
   an adapter the caller passed stays the caller's to close.
3. **execute**: under the run folder's lock, each task's requests go to the adapter in the
   flow it declares (:mod:`eval_anything.run.request_flow`), are scored and appended to
   ``samples/<task>.jsonl`` as they complete; then metrics are reduced and ``results.json`` is
   written. Running again into the same folder resumes: samples already in the log (same prompt
   hash, not failed) are not recomputed.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval_anything.core.content import modalities_of
from eval_anything.core.results import (
    CacheUse,
    JudgeInfo,
    Lineage,
    ModelInfo,
    Results,
    SampleRecord,
    TaskResult,
    choose_primary_metric,
)
from eval_anything.core.results_files import (
    iter_sample_records,
    last_per_id,
    samples_path,
    write_results,
    write_sample_records,
)
from eval_anything.errors import ConfigError
from eval_anything.judges.base import Judge, build_judge
from eval_anything.models.base import ModelAdapter
from eval_anything.models.build import build_adapter
from eval_anything.progress import ProgressReporter
from eval_anything.redact import redact
from eval_anything.run.cache import ResponseCache, cache_file
from eval_anything.run.environment import capture_environment
from eval_anything.run.failures import failure_counts
from eval_anything.run.folder_lock import FolderLock
from eval_anything.run.plan import PlannedTask, RunPlan, plan_run
from eval_anything.run.reduce import reduce_groups, task_metrics
from eval_anything.run.request_flow import run_task_flow
from eval_anything.run.run_dir import RunDirError, prepare_run_dir
from eval_anything.run.task_requests import TaskRequests
from eval_anything.scoring.base import ScoreContext


def evaluate(
    model: str,
    tasks: list[str] | str,
    model_args: dict[str, Any] | str | None = None,
    judges: dict[str, str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 8,
    output_dir: Path | str | None = None,
    include_paths: list[Path | str] | tuple[Path | str, ...] = (),
    cache_path: Path | str | None | bool = True,
    lineage: Lineage | None = None,
    gen_overrides: dict[str, Any] | None = None,
    shard: str | None = None,
    progress: bool = True,
    adapter: ModelAdapter | None = None,
    lm_eval_include_paths: list[Path | str] | tuple[Path | str, ...] = (),
    judge_repeats: int = 1,
) -> Results:
    """Evaluate ``model`` on ``tasks`` and write a run directory. Returns the results.

    ``cache_path=True`` uses the default cache (``~/.cache/eval_anything``), ``None``/``False``
    disables it. ``judge_repeats`` asks every (sampling) judge that many times per item, with
    seeds 0..K-1, and scores an item by the mean (docs/judges.md). ``adapter`` lets a caller
    pass a ready adapter (trainers scoring in-process); the caller keeps it and closes it.
    Judges, and the adapter when none is passed, are built here and closed before this returns
    or raises.
    """
    started = time.perf_counter()
    plan = plan_run(
        model, tasks, model_args, judges, limit, seed, batch_size, output_dir, include_paths,
        gen_overrides, shard, adapter, lm_eval_include_paths,
    )
    if judge_repeats != 1:
        if judge_repeats < 1:
            raise ConfigError(f"--judge-repeats {judge_repeats}: give 1 or more")
        plan.spec = plan.spec.model_copy(update={"judge_repeats": judge_repeats})
    with ExitStack() as owned:  # closed in reverse order, each even if another close fails
        cache = ResponseCache(cache_file(cache_path))
        owned.callback(cache.close)
        built: dict[str, Judge] = {}
        for pt in plan.tasks:
            for binding in pt.roles.values():
                if binding not in built:
                    owned.callback(judge_for(built, binding, cache, judge_repeats).close)
        if adapter is None:
            adapter = build_adapter(model, plan.model_args)
            owned.callback(adapter.close)
        return execute(plan, adapter, built, cache, lineage, progress, started)


def judge_for(objs: dict[str, Judge], binding: str, cache: ResponseCache,
              repeats: int = 1) -> Judge:
    """The judge of ``binding``, built once per run and shared by every role bound to it;
    asked ``repeats`` times per item (:func:`eval_anything.judges.panel.repeated_judge`)."""
    if binding not in objs:
        judge = build_judge(binding, cache=cache)
        if repeats != 1:
            from eval_anything.judges.panel import repeated_judge

            try:
                judge = repeated_judge(judge, repeats, f"--judge-repeats {repeats} ({binding})")
            except ConfigError:
                judge.close()
                raise
        objs[binding] = judge
    return objs[binding]


def execute(
    plan: RunPlan,
    adapter: ModelAdapter,
    judges: dict[str, Judge],
    cache: ResponseCache,
    lineage: Lineage | None,
    progress: bool,
    started: float,
) -> Results:
    """Run every planned task with built parts and write ``results.json`` (see the module doc)."""
    model_info = ModelInfo(
        adapter=plan.spec.model,
        name=plan.model_name,
        identity=adapter.model_identity_hash(),
        details=adapter.details(),
        input_modalities=list(adapter.input_modalities),
        output_modalities=list(adapter.output_modalities),
    )
    gaps = modality_gaps(plan.tasks, model_info.output_modalities)
    for task, missing in gaps.items():
        _warn(gap_warning(model_info, task, missing))
    reporter = ProgressReporter(enabled=progress)
    try:
        reporter.note(run_header(model_info))
        with FolderLock(plan.run_dir, what="run folder"):
            try:
                run_id = prepare_run_dir(plan.run_dir, plan.spec, model_info.identity, lineage,
                                         former_identity=adapter.identity_hash())
            except RunDirError as e:
                raise ConfigError(str(e)) from e
            task_results: dict[str, TaskResult] = {}
            timings: dict[str, float] = {}
            usage: dict[str, int] = {}
            for pt in plan.tasks:
                bound = {role: judges[b] for role, b in pt.roles.items()}
                t0 = time.perf_counter()
                records, cache_use = _run_task(pt, adapter, bound, cache, plan, reporter, usage)
                task_results[pt.spec.task] = task_result(
                    pt, records, bound, gaps.get(pt.spec.task, [])
                ).model_copy(update={"cache": cache_use})
                timings[pt.spec.task] = round(time.perf_counter() - t0, 3)
            for name in plan.lm_eval_tasks:
                from eval_anything.integrations.lm_eval_tasks import run_lm_eval_task

                t0 = time.perf_counter()
                task_results[name] = run_lm_eval_task(adapter, name, plan.spec, plan.run_dir)
                timings[name] = round(time.perf_counter() - t0, 3)
            reporter.close()
            specs = {pt.spec.task: pt.spec for pt in plan.tasks}
            results = Results(
                run_id=run_id,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                spec=plan.spec,
                model=model_info,
                environment=capture_environment(),
                lineage=lineage,
                tasks=task_results,
                groups=reduce_groups(plan.groups, plan.catalog, task_results, specs),
                timings={**timings, "total": round(time.perf_counter() - started, 3)},
                usage=usage,
                cache=CacheUse.total(tr.cache for tr in task_results.values()),
            )
            write_results(plan.run_dir, results)
    finally:
        reporter.close()
    return results


# ---------------------------------------------------------------------- what the model can emit


def modality_gaps(planned: list[PlannedTask], can_emit: list[str]) -> dict[str, list[str]]:
    """Per task, the output modalities it asks for that the model cannot emit (tasks without
    a gap are left out). A gap is said before the run and recorded in ``results.json``: the
    task's scores then reflect the model's wiring, and a zero must never be a silent one."""
    gaps: dict[str, list[str]] = {}
    for pt in planned:
        missing = [m for m in pt.spec.output_modalities if m not in can_emit]
        if missing:
            gaps[pt.spec.task] = missing
    return gaps


def _model_label(info: ModelInfo) -> str:
    return info.adapter if info.name == info.adapter else f"{info.adapter} ({info.name})"


def gap_warning(info: ModelInfo, task: str, missing: list[str]) -> str:
    """The one line said before the run for a task asking for what the model cannot emit."""
    what = ", ".join(missing)
    return (
        f"warning: model {_model_label(info)} cannot emit {what}; task {task} asks for {what}: "
        f"answers without it score 0 (use a model that emits {what}, or --model agent with a "
        f"generator for it)"
    )


def run_header(info: ModelInfo) -> str:
    """The line that opens a run's progress output: who is evaluated and what it reads and
    emits (what the modality warnings above it are about)."""
    return (
        f"model {_model_label(info)}: reads {', '.join(info.input_modalities) or '-'}; "
        f"emits {', '.join(info.output_modalities) or '-'}"
    )


def _warn(line: str) -> None:
    print(redact(line), file=sys.stderr, flush=True)  # before the progress bars start


# ---------------------------------------------------------------------- one task


def _run_task(
    pt: PlannedTask,
    adapter: ModelAdapter,
    judges: dict[str, Judge],
    cache: ResponseCache,
    plan: RunPlan,
    reporter: ProgressReporter,
    usage: dict[str, int],
) -> tuple[list[SampleRecord], CacheUse]:
    """Answer, score and log what the task's sample log does not hold yet; returns the task's
    records (the last one of each sample id, for the planned samples only) and how much of
    this run's work on it the response cache answered.

    The log ends the task with one line per sample id: an item retried after a failure adds a
    second line while the task runs, and the log is rewritten atomically (a temporary file,
    then a rename) when the task ends, or when a resumed task finds a log a killed run left
    with repeats. The records come from what was read at the start plus what was appended,
    never from reading the log back."""
    spec = plan.spec
    treq = TaskRequests(pt.spec, adapter, cache, plan.run_dir, spec.seed, spec.gen_overrides)
    log = samples_path(plan.run_dir, pt.spec.task)
    logged = list(iter_sample_records(log))
    done = last_per_id(logged)
    if len(logged) != len(done):
        write_sample_records(log, done.values())
    repeated = False
    todo = [s for s in pt.samples if not treq.is_done(s, done.get(s.id))]
    todo.sort(key=lambda s: len(s.text))  # similar lengths in one batch pad less; order is free
    ctx = ScoreContext(judges=judges, run_dir=plan.run_dir, task=pt.spec)
    kept = len(pt.samples) - len(todo)
    if kept:
        reporter.note(
            f"{pt.spec.task}: resumed from {log}: kept {kept} of {len(pt.samples)} items, "
            f"{len(todo)} to run"
        )
    bar = reporter.task(pt.spec.task, total=len(pt.samples), completed=kept)

    def written(records: list[SampleRecord]) -> None:
        nonlocal repeated
        for r in records:
            repeated = repeated or r.sample_id in done
            done[r.sample_id] = r  # the log's rule: the last record of an id counts
            for k, v in r.usage.items():
                usage[k] = usage.get(k, 0) + v
        bar.advance(len(records))

    hits_before, misses_before = cache.counts()
    run_task_flow(treq, todo, pt.scorers, ctx, log, spec.batch_size, written)
    hits, misses = cache.counts()
    # the judges share the run's cache: what the answers did not look up, they did
    judged = hits - hits_before + misses - misses_before - treq.answers_asked
    cache_use = CacheUse(
        answers=treq.answers_asked, answers_cached=treq.answers_cached,
        judgments=max(judged, 0),
        judgments_cached=max(hits - hits_before - treq.answers_cached, 0),
    )
    if cache_use.dominated:
        bar.describe(f"{pt.spec.task} (cache: {cache_use.summary()})")
    if repeated:
        write_sample_records(log, done.values())
    wanted = {s.id for s in pt.samples}
    return [r for r in done.values() if r.sample_id in wanted], cache_use


def task_result(
    pt: PlannedTask,
    records: list[SampleRecord],
    judges: dict[str, Judge],
    modality_gaps: list[str] | None = None,
) -> TaskResult:
    # scipy/scikit-learn behind the agreement figures load only once a task is scored
    from eval_anything.judges.calibration.consistency import internal_agreement

    metrics, unscored = task_metrics(pt.spec, records)
    n_failed, reasons = failure_counts(records)
    return TaskResult(
        primary_metric=choose_primary_metric(metrics, pt.spec.primary_metric),
        task=pt.spec.task,
        task_version=pt.spec.version,
        task_fingerprint=pt.fingerprint,
        n=len(records),
        n_unscored=unscored,
        metrics=metrics,
        n_failed=n_failed,
        failure_reasons=reasons,
        judges=[
            JudgeInfo(role=role, identity=j.identity(), template_hash=j.template_hash())
            for role, j in judges.items()
        ],
        input_modalities=sorted({m for s in pt.samples for m in modalities_of(s.input)}),
        output_modalities=list(pt.spec.output_modalities),
        modality_gaps=list(modality_gaps or []),
        cluster_key=pt.spec.cluster_key,
        judge_agreement=internal_agreement(records),
    )
