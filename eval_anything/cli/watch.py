"""``eval-anything watch CKPT_DIR --tasks ...``: score every new checkpoint any trainer writes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eval_anything.cli.common import (
    check_failed_items,
    console,
    fail_on_error_option,
    user_errors,
)


def watch_command(
    ckpt_dir: Annotated[Path, typer.Argument(help="Folder the trainer writes checkpoint-N into.")],
    tasks: Annotated[str, typer.Option(help="Comma-separated tasks or groups to score.")],
    model: Annotated[str, typer.Option(help="Adapter that loads a checkpoint folder.")] = "hf",
    model_args: Annotated[
        str | None, typer.Option(help="Extra adapter args (pretrained is the checkpoint).")
    ] = None,
    judge: Annotated[list[str] | None, typer.Option(help="ROLE=BINDING (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most N samples per task.")] = None,
    include_path: Annotated[list[Path] | None, typer.Option(help="Extra task folder.")] = None,
    batch_size: Annotated[int, typer.Option(help="Requests per adapter call.")] = 8,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Runs and ledger (default CKPT_DIR/.eval_anything).")
    ] = None,
    training_run_id: Annotated[
        str | None,
        typer.Option(help="Lineage run id (default: the trainer's CKPT_DIR/training_run.json, "
                     "else one kept in the runs dir)."),
    ] = None,
    pattern: Annotated[
        str, typer.Option(help="Regex for checkpoint folder names; group 1 is the step.")
    ] = r"checkpoint-(\d+)",
    poll: Annotated[
        float, typer.Option(help="Seconds between scans (until Ctrl-C, --once or --idle-exit).")
    ] = 10.0,
    settle: Annotated[
        float, typer.Option(help="A checkpoint must be unchanged this many seconds.")
    ] = 5.0,
    once: Annotated[bool, typer.Option("--once", help=(
        "One pass for CI: wait (at most --settle seconds) for checkpoints still being written, "
        "score every complete one, say what was scored and skipped, then exit; exit 1 when a "
        "checkpoint is left unscored or none matches."))] = False,
    idle_exit: Annotated[
        float | None, typer.Option(help="Exit after this many seconds without new checkpoints.")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Score again checkpoints that failed before.")
    ] = False,
    push: Annotated[
        bool, typer.Option(help="Push scored runs to the store when one exists.")
    ] = True,
    store: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Give up on one checkpoint after this many seconds.")
    ] = None,
    fail_on_error: Annotated[str | None, fail_on_error_option()] = None,
) -> None:
    """Score each new complete checkpoint once, in step order; restarts skip what was scored.

    Polls until Ctrl-C. --once: wait up to --settle seconds for checkpoints still being
    written, score every complete one, then exit (1 when any is left unscored or none is
    found). --idle-exit S: exit after S seconds without a new checkpoint. Every way out says
    what was scored and what was skipped, and why.
    """
    from eval_anything.cli.train import print_scored
    from eval_anything.judges.base import parse_judge_options
    from eval_anything.model_args import split_model_args, typed_model_args
    from eval_anything.models.build import adapter_class
    from eval_anything.trainers.autoscore.checkpoint_scoring import ScoreSettings, headline
    from eval_anything.trainers.autoscore.watch import Watcher

    def report(o: Any) -> None:
        if o.status == "scored":
            shown = ", ".join(f"{k} {v:.4f}" for k, v in headline(o).items())
            console.print(f"step {o.step} ({o.name}): {shown}")
        else:
            console.print(f"[red]step {o.step} ({o.name}) not scored:[/] {o.error}")

    with user_errors():
        from eval_anything.errors import UserError
        from eval_anything.run.failures import parse_fail_on_error

        parse_fail_on_error(fail_on_error)
        if not ckpt_dir.is_dir():
            raise UserError(f"CKPT_DIR {ckpt_dir}: no such folder")
        settings = ScoreSettings(
            tasks=[t.strip() for t in tasks.split(",") if t.strip()], model=model,
            model_args=typed_model_args(
                adapter_class(model), split_model_args(model_args)
            ),
            limit=limit,
            include_paths=[str(p) for p in include_path or []],
            judges=parse_judge_options(judge), batch_size=batch_size, push=push, store=store,
            timeout_s=timeout,
        )
        watcher = Watcher(
            ckpt_dir, settings, runs_dir=runs_dir, training_run_id=training_run_id,
            pattern=pattern, settle_s=settle, retry_failed=retry_failed, on_outcome=report,
        )
    source = " from the trainer's training_run.json" if watcher.trainer_run_id else ""
    console.print(
        f"watching {ckpt_dir} for {pattern} (training run {watcher.scorer.training_run_id}"
        f"{source}); ledger {watcher.scorer.ledger.path}"
    )
    if not once and idle_exit is None:
        console.print(f"polling every {poll:g} s until Ctrl-C (--once: one pass, then exit; "
                      "--idle-exit S: exit after S idle seconds)")
    if once and settle > 0:
        console.print(f"--once: waiting up to {settle:g} s (--settle) for checkpoints still "
                      "being written")
    interrupted = False
    try:
        outcomes = watcher.run(poll_s=poll, once=once, idle_exit_s=idle_exit)
    except KeyboardInterrupt:
        outcomes, interrupted = watcher.outcomes, True
    print_scored(outcomes)
    left = print_session(watcher, ckpt_dir, pattern)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
    if left and not interrupted:
        raise typer.Exit(1)
    _check_items(outcomes, fail_on_error)


def print_session(watcher: Any, ckpt_dir: Path, pattern: str) -> bool:
    """What this session scored, what the ledger held from before, and each checkpoint left
    unscored with the reason; True when the session leaves checkpoints unscored or found none
    at all (a CI step must not pass having scored nothing without saying so)."""
    from rich.markup import escape

    def say(head: str, text: str = "") -> None:  # one line each; names are not markup
        console.print(head + escape(text), soft_wrap=True, highlight=False)

    scored = [o.name for o in watcher.outcomes if o.status == "scored"]
    failed = [o.name for o in watcher.outcomes if o.status == "failed"]
    before = [c.name for c in watcher.done_before()]
    unscored = watcher.unscored()
    say("", f"scored {len(scored)} checkpoint(s) this session"
        + (f": {', '.join(scored)}" if scored else ""))
    if failed:
        say(f"[red]failed {len(failed)}:[/] ",
            f"{', '.join(failed)} (the table says why; --retry-failed scores them again)")
    if before:
        say("", f"left alone {len(before)} the ledger settled before "
            f"({watcher.scorer.ledger.path}): {', '.join(before)}")
    for c, why in unscored:
        say("[red]skipped[/] ", f"{c.name}: {why}")
    if unscored:
        say("[red]not every checkpoint was scored:[/] ", "run watch again once the trainer "
            "has finished writing them (or fix the incomplete folders)")
        return True
    if not (scored or failed or before):
        say("[red]no checkpoint scored:[/] ", f"no folder in {ckpt_dir} matches --pattern "
            f"{pattern!r}; check CKPT_DIR and --pattern")
        return True
    return False


def _check_items(outcomes: list[Any], fail_on_error: str | None) -> None:
    """Items that failed inside scored checkpoints: summary on stderr, exit 3 past the limit
    (rerun watch with --retry-failed, or ``run`` into the checkpoint's run folder)."""
    from eval_anything.core.results import RESULTS_FILE
    from eval_anything.core.results_files import read_results

    for o in outcomes:
        if o.status == "scored" and (Path(o.run_dir) / RESULTS_FILE).is_file():
            with user_errors():
                results = read_results(Path(o.run_dir))
            check_failed_items(results, fail_on_error, what=f"checkpoint {o.name} run")


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_command)
