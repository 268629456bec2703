"""``eval-anything run``: evaluate a model on tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eval_anything.cli.common import (
    check_failed_items,
    console,
    fail_on_error_option,
    print_unscored_notes,
    results_table,
    user_errors,
)


def parse_lineage(text: str | None):  # type: ignore[no-untyped-def]
    """``RUN_ID:STEP[:CHECKPOINT_PATH]`` -> Lineage."""
    if not text:
        return None
    from eval_anything.core.results import Lineage
    from eval_anything.errors import UserError

    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise UserError(f"--lineage {text!r}: expected TRAINING_RUN_ID:STEP[:CHECKPOINT_PATH]")
    return Lineage(
        training_run_id=parts[0],
        step=int(parts[1]),
        checkpoint_path=parts[2] if len(parts) > 2 else None,
    )


def run(
    model: Annotated[
        str, typer.Option(help="Model adapter: hf, smollm2, openai, vllm, scripted, ...")
    ],
    tasks: Annotated[
        str, typer.Option(help="Comma-separated tasks or groups (lm_eval:<task> too).")
    ],
    model_args: Annotated[
        str | None, typer.Option(help="Adapter arguments, e.g. pretrained=DIR,dtype=float32")
    ] = None,
    judge: Annotated[
        list[str] | None, typer.Option(help="Bind a judge role: ROLE=BINDING (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many samples per task.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampled generation.")] = 0,
    batch_size: Annotated[int, typer.Option(
        help="Requests per call to a local model (hf, smollm2, ...); served models take "
        "max_concurrency from --model-args, vllm chunk_size.")] = 8,
    output_dir: Annotated[
        Path | None, typer.Option(help="Run directory; rerunning into it resumes.")
    ] = None,
    include_path: Annotated[
        list[Path] | None, typer.Option(help="Extra folder of task YAML files (repeatable).")
    ] = None,
    lm_eval_include_path: Annotated[
        list[Path] | None, typer.Option(help="Folder of lm-eval task YAML for lm_eval:<task>.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="Evaluate slice I of N: 'I/N' ('auto': RANK/WORLD_SIZE).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the response cache.")
    ] = False,
    cache_path: Annotated[Path | None, typer.Option(help="Response cache file.")] = None,
    lineage: Annotated[
        str | None, typer.Option(help="Training lineage TRAINING_RUN_ID:STEP[:CKPT_PATH].")
    ] = None,
    push: Annotated[bool, typer.Option(help="Push the run to the leaderboard store.")] = False,
    store: Annotated[str | None, typer.Option(help="Store URL or SQLite path for --push.")] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="Override every task's max_new_tokens.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    judge_repeats: Annotated[int, typer.Option(
        help="Ask each sampling judge (temperature > 0) K times per item, seeds 0..K-1; the "
        "item's score is their mean (docs/judges.md).", min=1,
    )] = 1,
    fail_on_error: Annotated[str | None, fail_on_error_option()] = None,
) -> None:
    """Evaluate MODEL on TASKS; write RUN_DIR/results.json and RUN_DIR/samples/*.jsonl."""
    from eval_anything.judges.base import parse_judge_options
    from eval_anything.run.runner import evaluate

    with user_errors():
        from eval_anything.run.failures import parse_fail_on_error

        parse_fail_on_error(fail_on_error)  # a bad value fails before the run, not after it
        if push:  # a store that cannot take the run fails now, not after the evaluation
            from eval_anything.store import check_store

            check_store(store)
        overrides = {"max_new_tokens": max_new_tokens} if max_new_tokens else {}
        cache: Path | bool | None = False if no_cache else (cache_path or True)
        results = evaluate(
            model=model,
            tasks=tasks,
            model_args=model_args,
            judges=parse_judge_options(judge),
            limit=limit,
            seed=seed,
            batch_size=batch_size,
            output_dir=output_dir,
            include_paths=list(include_path or []),
            cache_path=cache,
            lineage=parse_lineage(lineage),
            gen_overrides=overrides,
            shard=shard,
            progress=not quiet,
            lm_eval_include_paths=list(lm_eval_include_path or []),
            judge_repeats=judge_repeats,
        )
    console.print(results_table(results))
    print_cache_use(results)
    console.print(f"run directory: {results.run_dir}")
    print_unscored_notes(results, results.run_dir)
    check_failed_items(results, fail_on_error)
    if push:
        with user_errors():
            from eval_anything.store import push as push_run

            run_id = push_run(results.run_dir or Path("."), store)
        console.print(f"pushed run {run_id} to the store")


def print_cache_use(results: Any) -> None:
    """How much of the run the response cache answered, per task and in all, and whether the
    timings (and the samples per second of the progress bars) measure cache reads rather than
    the model: a run answered from the cache is fast for no merit of the model's."""
    use = results.cache
    if use is None or use.answers + use.judgments == 0:
        return
    tasks = {t: tr.cache for t, tr in results.tasks.items() if tr.cache is not None}
    if len(tasks) > 1:
        for task, part in tasks.items():
            if part.answers + part.judgments:
                console.print(f"  {task}: {part.summary()} ({results.timings.get(task, 0):.1f} s)",
                              highlight=False, soft_wrap=True)
    line = f"cache: {use.summary()}"
    if use.dominated:
        line += (f"; the run's {results.timings.get('total', 0):.1f} s and samples/s are "
                 "mostly cache reads, not the model's speed (--no-cache times the model)")
    console.print(line, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
