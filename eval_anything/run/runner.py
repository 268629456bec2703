"""plan -> generate -> score -> reduce.

The runner resolves the tasks, binds judge roles (failing before any generation when a role is
unbound), asks the adapter for answers in batches through the response cache, scores each batch
and appends its records to ``samples/<task>.jsonl`` as it goes. Running again with the same
``output_dir`` resumes: samples already in the log (same prompt hash) are not recomputed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval_anything import registry
from eval_anything.core.content import modalities_of
from eval_anything.core.results import (
    JudgeInfo,
    Lineage,
    ModelInfo,
    Results,
    RunSpec,
    TaskResult,
    choose_primary_metric,
)
from eval_anything.core.results_files import read_sample_records, samples_path, write_results
from eval_anything.core.sample import Sample
from eval_anything.errors import ConfigError
from eval_anything.judges.base import Judge, build_judge
from eval_anything.model_args import public_args, split_model_args, typed_model_args
from eval_anything.models.base import ModelAdapter
from eval_anything.models.build import adapter_class, build_adapter
from eval_anything.run.cache import ResponseCache, cache_file
from eval_anything.run.environment import capture_environment
from eval_anything.run.failures import failure_counts
from eval_anything.run.folder_lock import FolderLock
from eval_anything.run.progress import ProgressReporter
from eval_anything.run.reduce import reduce_groups, task_metrics
from eval_anything.run.request_flow import run_task_flow
from eval_anything.run.run_dir import RunDirError, prepare_run_dir
from eval_anything.run.task_requests import TaskRequests
from eval_anything.scoring.base import ScoreContext, Scorer
from eval_anything.spec.catalog import LM_EVAL_PREFIX, Catalog, load_catalog
from eval_anything.spec.sources import load_samples
from eval_anything.spec.task import (
    TaskSpec,
    TaskSpecError,
    fingerprint,
    render_input,
    render_system,
)


@dataclass
class PlannedTask:
    spec: TaskSpec
    samples: list[Sample]
    fingerprint: str
    scorers: list[Scorer]
    roles: dict[str, str] = field(default_factory=dict)


def resolve_shard(shard: str | None) -> str | None:
    """``auto`` -> ``RANK/WORLD_SIZE`` as set by torchrun or accelerate launch (None when unset
    or a single process)."""
    if shard != "auto":
        return shard
    import os

    rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank is None or world is None or world == "1":
        return None
    return f"{int(rank)}/{int(world)}"


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    if shard is None:
        return None
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise ConfigError(f"--shard {shard!r}: expected I/N, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise ConfigError(f"--shard {shard!r}: need 0 <= I < N")
    return i, n


def scorers_and_roles(
    tspec: TaskSpec, bindings: dict[str, str]
) -> tuple[list[Scorer], dict[str, str]]:
    """A task's scorers and the binding of every judge role they need: the given bindings
    first, then the task's defaults. Raises ConfigError naming the role when one is unbound."""
    scorers = [
        registry.scorer_class(s.name, where=f"{tspec.file}: field 'scorers'")(**s.args)
        for s in tspec.scorers
    ]
    roles: dict[str, str] = {}
    for sc in scorers:
        for role in sc.required_roles():
            binding = bindings.get(role) or tspec.judges.get(role)
            if binding is None:
                raise ConfigError(
                    f"task {tspec.task!r} (scorer {sc.name!r}) needs judge role {role!r}, which "
                    f"is not bound: add --judge {role}=BINDING (e.g. {role}=smollm2, "
                    f"{role}=openai:gpt-4o) or a default under 'judges:' in {tspec.file}"
                )
            roles[role] = binding
    return scorers, roles


def plan_tasks(spec: RunSpec, catalog: Catalog) -> tuple[list[PlannedTask], list[str], list[str]]:
    """Load every task, its samples (limit, shard) and scorers; returns also groups and lm-eval
    task names. Raises before any model is loaded when a judge role is unbound."""
    task_names, groups = catalog.expand(spec.tasks)
    shard = parse_shard(spec.shard)
    planned: list[PlannedTask] = []
    lm_eval = [t for t in task_names if t.startswith(LM_EVAL_PREFIX)]
    for name in task_names:
        if name.startswith(LM_EVAL_PREFIX):
            continue
        tspec = catalog.tasks[name]
        samples = load_samples(tspec, spec.limit)
        fp = fingerprint(tspec, samples)
        if shard is not None:
            samples = samples[shard[0] :: shard[1]]
        scorers, roles = scorers_and_roles(tspec, spec.judges)
        check_prompts(tspec, samples)
        planned.append(PlannedTask(tspec, samples, fp, scorers, roles))
    return planned, groups, lm_eval


def check_prompts(tspec: TaskSpec, samples: list[Sample]) -> None:
    """Render every sample's prompt now, so a template error (or a sandbox escape, which the
    sandbox blocks) stops the run before anything is written, naming the sample."""
    from jinja2 import TemplateError

    for s in samples:
        try:
            render_input(tspec, s)
            render_system(tspec, s)
        except TemplateError as e:
            raise TaskSpecError(
                f"{tspec.file}: field 'prompt': the template does not render for sample "
                f"{s.id!r}: {type(e).__name__}: {e}"
            ) from None
        if tspec.request == "multiple_choice" and not s.choices:
            raise TaskSpecError(
                f"{tspec.file}: sample {s.id!r} has no 'choices' but the task's request is "
                "multiple_choice"
            )


def check_run_numbers(limit: int | None, batch_size: int) -> None:
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise ConfigError(f"--limit {limit}: give a positive number of samples per task")
    if isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: give a positive number of requests")


def run_dir_for(output_dir: Path | str | None, model: str) -> Path:
    """The run folder (a new dated one under ./runs by default); a file there is refused."""
    if output_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output_dir = Path("runs") / f"{model}-{stamp}"
    run_dir = Path(output_dir)
    for p in (run_dir, *run_dir.parents):
        if p.exists() and not p.is_dir():
            raise ConfigError(
                f"--output-dir {run_dir}: {p} is a file, not a folder; give a folder path"
            )
    return run_dir


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
) -> Results:
    """Evaluate ``model`` on ``tasks`` and write a run directory. Returns the results.

    ``cache_path=True`` uses the default cache (``~/.cache/eval_anything``), ``None``/``False``
    disables it. ``adapter`` lets a caller pass a ready adapter (trainers scoring in-process).
    """
    started = time.perf_counter()
    check_run_numbers(limit, batch_size)
    if isinstance(model_args, str):
        raw = split_model_args(model_args)
        cls = adapter_class(model) if adapter is None else type(adapter)
        args = typed_model_args(cls, raw)
    else:
        args = dict(model_args or {})
    task_list = [t.strip() for t in tasks.split(",")] if isinstance(tasks, str) else list(tasks)
    spec = RunSpec(
        model=model,
        model_args=public_args(args),
        tasks=[t for t in task_list if t],
        judges=dict(judges or {}),
        limit=limit,
        seed=seed,
        batch_size=batch_size,
        shard=resolve_shard(shard),
        gen_overrides=dict(gen_overrides or {}),
        lm_eval_include_paths=[str(Path(p).resolve()) for p in lm_eval_include_paths],
    )
    catalog = load_catalog(include_paths)
    planned, groups, lm_eval_tasks = plan_tasks(spec, catalog)
    if lm_eval_tasks:  # lm_eval: tasks load (or fail, exit 2) before the model or any file
        from eval_anything.integrations.lm_eval_tasks import prepare_lm_eval_tasks

        prepare_lm_eval_tasks(lm_eval_tasks, spec)
    run_dir = run_dir_for(output_dir, model)

    # everything that can fail on the user's input fails here, before the run folder exists
    cache = ResponseCache(cache_file(cache_path))
    judge_objs: dict[str, Any] = {}
    reporter = ProgressReporter(enabled=progress)
    try:
        for pt in planned:
            for b in pt.roles.values():
                judge_for(judge_objs, b, cache)
        if adapter is None:
            adapter = build_adapter(model, args)
        model_info = ModelInfo(
            adapter=model,
            name=str(args.get("pretrained") or args.get("model") or args.get("path") or model),
            identity=adapter.identity_hash(),
            details=adapter.details(),
            input_modalities=list(adapter.input_modalities),
            output_modalities=list(adapter.output_modalities),
        )
        with FolderLock(run_dir, what="run folder"):
            try:
                run_id = prepare_run_dir(run_dir, spec, model_info.identity, lineage)
            except RunDirError as e:
                raise ConfigError(str(e)) from e
            task_results: dict[str, TaskResult] = {}
            timings: dict[str, float] = {}
            usage: dict[str, int] = {}
            for pt in planned:
                bound = {role: judge_objs[b] for role, b in pt.roles.items()}
                t0 = time.perf_counter()
                result = _run_task(pt, adapter, bound, cache, run_dir, spec, reporter, usage)
                task_results[pt.spec.task] = result
                timings[pt.spec.task] = round(time.perf_counter() - t0, 3)
            for name in lm_eval_tasks:
                from eval_anything.integrations.lm_eval_tasks import run_lm_eval_task

                t0 = time.perf_counter()
                task_results[name] = run_lm_eval_task(adapter, name, spec, run_dir)
                timings[name] = round(time.perf_counter() - t0, 3)
            reporter.close()
            specs = {pt.spec.task: pt.spec for pt in planned}
            results = Results(
                run_id=run_id,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                spec=spec,
                model=model_info,
                environment=capture_environment(),
                lineage=lineage,
                tasks=task_results,
                groups=reduce_groups(groups, catalog, task_results, specs),
                timings={**timings, "total": round(time.perf_counter() - started, 3)},
                usage=usage,
            )
            write_results(run_dir, results)
    finally:
        reporter.close()
        for j in judge_objs.values():
            j.close()
        cache.close()
    return results


def judge_for(objs: dict[str, Judge], binding: str, cache: ResponseCache) -> Judge:
    """The judge of ``binding``, built once per run and shared by every role bound to it."""
    if binding not in objs:
        objs[binding] = build_judge(binding, cache=cache)
    return objs[binding]


def _run_task(
    pt: PlannedTask,
    adapter: ModelAdapter,
    judges: dict[str, Any],
    cache: ResponseCache,
    run_dir: Path,
    spec: RunSpec,
    reporter: ProgressReporter,
    usage: dict[str, int],
) -> TaskResult:
    treq = TaskRequests(pt.spec, adapter, cache, run_dir, spec.seed, spec.gen_overrides)
    log = samples_path(run_dir, pt.spec.task)
    done = {r.sample_id: r for r in read_sample_records(run_dir, pt.spec.task)}
    todo = [s for s in pt.samples if not treq.is_done(s, done.get(s.id))]
    # similar lengths in one batch waste less padding; records are keyed by id, so order is free
    todo.sort(key=lambda s: len(s.text))
    ctx = ScoreContext(judges=judges, run_dir=run_dir, task=pt.spec)
    kept = len(pt.samples) - len(todo)
    if kept:
        reporter.note(
            f"{pt.spec.task}: resumed from {log}: kept {kept} of {len(pt.samples)} items, "
            f"{len(todo)} to run"
        )
    bar = reporter.task(pt.spec.task, total=len(pt.samples), completed=kept)

    def written(records: list[Any]) -> None:
        for r in records:
            done[r.sample_id] = r  # the log's reading: last record per id wins, in log order
            for k, v in r.usage.items():
                usage[k] = usage.get(k, 0) + v
        bar.advance(len(records))

    # batches, concurrent requests or chunks, as the model and judges declare
    run_task_flow(treq, todo, pt.scorers, ctx, log, spec.batch_size, written)
    # what the log now holds, without reading it back (that was a fifth of our CPU at 256
    # requests in flight): the records read at the start plus those appended since
    wanted = {s.id for s in pt.samples}
    records = [r for r in done.values() if r.sample_id in wanted]
    return task_result(pt, records, judges)


def task_result(pt: PlannedTask, records: list[Any], judges: dict[str, Any]) -> TaskResult:
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
        cluster_key=pt.spec.cluster_key,
    )


