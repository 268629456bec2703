"""``eval-anything score RUN_DIR --judge ROLE=BINDING ...``: re-judge a finished run without
regenerating (see :mod:`eval_anything.run.rescore`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("score")
    def score(
        run_dir: Path = typer.Argument(..., help="A finished run directory."),
        judge: list[str] = typer.Option(
            [], "--judge", help="ROLE=BINDING, repeatable (judge=smollm2, judge=openai:gpt-4o)."
        ),
        output_dir: Path | None = typer.Option(
            None, "--output-dir", "-o",
            help="Folder for the re-judged run (default: RUN_DIR-rescore-<hash>).",
        ),
        in_place: bool = typer.Option(
            False, "--in-place", help="Rewrite RUN_DIR's scores and results.json instead."
        ),
        tasks: str | None = typer.Option(
            None, "--tasks", help="Comma-separated tasks to re-judge (default: all of the run)."
        ),
        include_path: list[Path] = typer.Option(
            [], "--include-path", help="Folders of task YAML the run used (if not bundled)."
        ),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached judgments."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
        judge_repeats: int | None = typer.Option(
            None, "--judge-repeats", min=1,
            help="Ask each sampling judge K times per item (default: as the run did).",
        ),
        fail_on_error: str | None = typer.Option(
            None, "--fail-on-error",
            help="Exit 3 when more items than this failed (model or judge errors): a count "
            "(default 0: any), a fraction below 1, or 'never'.",
        ),
    ) -> None:
        """Score RUN_DIR again with other judges; no model is loaded or called."""
        from eval_anything.cli.common import (
            check_failed_items,
            console,
            print_unscored_notes,
            results_table,
            user_errors,
        )
        from eval_anything.judges.base import parse_judge_options
        from eval_anything.run.failures import parse_fail_on_error
        from eval_anything.run.rescore import default_output_dir, rescore

        if in_place and output_dir is not None:
            typer.echo("error: give --in-place or --output-dir, not both", err=True)
            raise typer.Exit(2)
        with user_errors():
            parse_fail_on_error(fail_on_error)
            bindings = parse_judge_options(judge)
            selected = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
            results = rescore(
                run_dir, bindings, output_dir=run_dir if in_place else output_dir,
                include_paths=include_path, cache_path=None if no_cache else True,
                tasks=selected, progress=not quiet, judge_repeats=judge_repeats,
            )
        out = run_dir if in_place else (output_dir or default_output_dir(run_dir,
                                                                         results.spec.judges))
        console.print(results_table(results))
        typer.echo(f"re-judged {run_dir} -> {out}")
        print_unscored_notes(results, out)
        check_failed_items(results, fail_on_error, what="re-judged run")
