"""Planning a run: everything that can fail on the user's input, checked before any model,
judge or file exists.

:func:`plan_run` turns ``evaluate``'s arguments into a :class:`RunPlan`: the frozen
:class:`~eval_anything.core.results.RunSpec`, every task's samples (limit, shard), scorers and
judge bindings, the lm-eval tasks, and the run folder's path. A bad flag, task file, row,
prompt template or judge binding raises here (exit 2, nothing written).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval_anything import registry
from eval_anything.core.results import RunSpec
from eval_anything.core.sample import Sample
from eval_anything.errors import ConfigError
from eval_anything.model_args import public_args, split_model_args, typed_model_args
from eval_anything.models.base import ModelAdapter
from eval_anything.models.build import adapter_class
from eval_anything.scoring.base import Scorer
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
    """One task of a run: its samples (after limit and shard), the fingerprint over all of its
    samples (before sharding, so shards of a run agree), scorers and the binding of every
    judge role they need."""

    spec: TaskSpec
    samples: list[Sample]
    fingerprint: str
    scorers: list[Scorer]
    roles: dict[str, str] = field(default_factory=dict)


@dataclass
class RunPlan:
    """What a run will do, resolved and checked. ``model_args`` are the adapter's typed
    arguments with secrets (the adapter needs them); ``spec.model_args`` has them removed."""

    spec: RunSpec
    model_args: dict[str, Any]
    catalog: Catalog
    tasks: list[PlannedTask]
    groups: list[str]
    lm_eval_tasks: list[str]
    run_dir: Path

    @property
    def model_name(self) -> str:
        """The name a person knows the model by: the ``name`` model arg when given (a label
        only, never part of the model's identity), else its path or hub id, else the
        adapter's."""
        args = self.model_args
        return str(args.get("name") or args.get("pretrained") or args.get("model")
                   or args.get("path") or self.spec.model)


def plan_run(
    model: str,
    tasks: list[str] | str,
    model_args: dict[str, Any] | str | None,
    judges: dict[str, str] | None,
    limit: int | None,
    seed: int,
    batch_size: int,
    output_dir: Path | str | None,
    include_paths: list[Path | str] | tuple[Path | str, ...],
    gen_overrides: dict[str, Any] | None,
    shard: str | None,
    adapter: ModelAdapter | None,
    lm_eval_include_paths: list[Path | str] | tuple[Path | str, ...],
) -> RunPlan:
    """``evaluate``'s arguments resolved and checked (see the module doc)."""
    check_run_numbers(limit, batch_size)
    if isinstance(model_args, str):
        cls = adapter_class(model) if adapter is None else type(adapter)
        args = typed_model_args(cls, split_model_args(model_args))
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
    planned, groups, lm_eval = plan_tasks(spec, catalog)
    check_judge_roles(spec.judges, planned)
    if lm_eval:  # lm_eval: tasks load (or fail, exit 2) before the model or any file
        from eval_anything.integrations.lm_eval_tasks import prepare_lm_eval_tasks

        prepare_lm_eval_tasks(lm_eval, spec)
    return RunPlan(spec, args, catalog, planned, groups, lm_eval, run_dir_for(output_dir, model))


def resolve_shard(shard: str | None) -> str | None:
    """``auto`` -> ``RANK/WORLD_SIZE`` as set by torchrun or accelerate launch (None when unset
    or a single process)."""
    if shard != "auto":
        return shard
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


def check_judge_roles(bindings: dict[str, str], planned: list[PlannedTask]) -> None:
    """A ``--judge ROLE=...`` that no selected task asks for is a typo or a wrong task list
    (``judge`` for ``image_judge``, say): refused, naming the roles the tasks do have, rather
    than ignored while a task's default judge scores in its place."""
    wanted = sorted({role for pt in planned for role in pt.roles})
    unused = sorted(set(bindings) - set(wanted))
    if not unused:
        return
    names = ", ".join(pt.spec.task for pt in planned) or "none but lm-eval tasks"
    has = (f"their judge roles are {', '.join(wanted)}" if wanted
           else "they need no judge")
    raise ConfigError(
        f"--judge {unused[0]}={bindings[unused[0]]}: no selected task has the judge role "
        f"{unused[0]!r} (tasks: {names}; {has}); drop the flag or fix the role's name"
    )


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
