"""``eval-anything overlap``: which items of the given tasks a training set contains (see
:mod:`eval_anything.overlap` and docs/training.md, "Train and test kept apart")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from eval_anything.overlap import OverlapReport


def register(app: typer.Typer) -> None:
    @app.command("overlap")
    def overlap(
        train: list[Path] = typer.Argument(  # noqa: B008
            ..., metavar="TRAIN...",
            help="Training files (JSONL, JSON, Parquet) or datasets folders, in any layout the "
            "trainers read (SFT, preference, feedback; text, image, audio, video).",
        ),
        tasks: str = typer.Option(..., "--tasks", help="Tasks or groups, comma separated."),
        include_path: list[Path] = typer.Option(
            [], "--include-path", help="Folders of task YAML beyond the bundled suites."
        ),
        ngram: int = typer.Option(
            13, "--ngram", min=1,
            help="Length of the shared word run that flags an item (shorter items: whole).",
        ),
        media_root: Path | None = typer.Option(
            None, "--media-root",
            help="Where relative media paths of the training rows resolve (default: each "
            "file's folder), as data.media_root in a training config.",
        ),
        limit: int | None = typer.Option(None, "--limit", help="Only the first N items a task."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Flag evaluation items the training data contains: same text after normalization,
        a shared run of --ngram words, or the same media content. Exit 0 either way."""
        from eval_anything.cli.common import user_errors

        with user_errors():
            report = _check(train, tasks, include_path, ngram, media_root, limit)
        if as_json:
            typer.echo(json.dumps(report.to_summary(), indent=2))
        else:
            _print_table(report)


def _check(train: list[Path], tasks: str, include_path: list[Path], ngram: int,
           media_root: Path | None, limit: int | None) -> OverlapReport:
    from eval_anything.errors import ConfigError
    from eval_anything.overlap import check_overlap
    from eval_anything.spec.catalog import LM_EVAL_PREFIX, load_catalog

    names = [t.strip() for t in tasks.split(",") if t.strip()]
    if not names:
        raise ConfigError("--tasks: no task named; give task or group names, comma separated")
    catalog = load_catalog(include_path)
    task_names, _ = catalog.expand(names)
    outside = [t for t in task_names if t.startswith(LM_EVAL_PREFIX)]
    if outside:
        raise ConfigError(
            f"--tasks: {', '.join(outside)}: lm-eval tasks keep their items inside lm-eval, "
            "which this check cannot read; name eval-anything tasks (eval-anything tasks)"
        )
    return check_overlap(train, [catalog.tasks[t] for t in task_names], ngram=ngram,
                         media_root=media_root, limit=limit)


def _print_table(report: OverlapReport) -> None:
    from rich.table import Table

    from eval_anything.cli.common import console

    table = Table(title=f"Overlap with {report.train_rows} training rows "
                        f"({report.ngram}-word runs)")
    for col in ("task", "n", "flagged", "share", "reasons", "first flagged"):
        table.add_column(col, justify="right" if col in ("n", "flagged", "share") else "left")
    for name, t in report.ranked():
        reasons: dict[str, int] = {}
        for f in t.flagged:
            reasons[f.reason] = reasons.get(f.reason, 0) + 1
        first = t.flagged[0] if t.flagged else None
        where = (f"{first.sample_id} <- {first.train_rows[0].file} row {first.train_rows[0].row}"
                 if first else "-")
        table.add_row(name, str(t.n), str(len(t.flagged)), f"{t.share:.1%}",
                      ", ".join(f"{k} {v}" for k, v in reasons.items()) or "-", where)
    console.print(table)
