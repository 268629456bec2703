"""``eval-anything push RUN_DIR...``: put runs on the leaderboard store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

STORE_HELP = (
    "Store: a SQLAlchemy URL (postgresql://user@host/db, sqlite:///file) or a SQLite file path. "
    "Default: $EVAL_ANYTHING_STORE, else ~/.cache/eval_anything/leaderboard.sqlite."
)


def push_command(
    run_dirs: list[Path] = typer.Argument(..., help="Run directories (each with results.json)."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Store runs on the leaderboard (idempotent: pushing a run again replaces it)."""
    from eval_anything.cli.common import user_errors
    from eval_anything.core.results_files import read_results, read_sample_records
    from eval_anything.store import ingest, open_store

    with user_errors():  # an unreadable run (file and line named) or store: nothing is pushed
        runs = []
        for run_dir in run_dirs:
            results = read_results(run_dir)
            records = {t: read_sample_records(run_dir, t) for t in results.tasks}
            runs.append((run_dir, results, records))
        with open_store(store) as opened:
            typer.echo(f"store: {shown_store_url(opened.url)}")
            for run_dir, results, records in runs:
                run_id = ingest(opened, results, records, run_dir)
                typer.echo(pushed_line(run_id, results, run_dir))


def pushed_line(run_id: str, results: Any, run_dir: Path) -> str:
    """``pushed RUN_ID: MODEL (ADAPTER[, step N]), tasks A, B from RUN_DIR``: what a reader
    looks for on the leaderboard afterwards (the model by its short name, as the board shows
    it)."""
    from eval_anything.leaderboard.ranking import short_model_name
    from eval_anything.redact import redact

    model = results.model
    step = f", step {results.lineage.step}" if results.lineage is not None else ""
    tasks = ", ".join(results.tasks) or "no tasks"
    return redact(f"pushed {run_id}: {short_model_name(model.name)} ({model.adapter}{step}), "
                  f"tasks {tasks} from {run_dir}")


def shown_store_url(url: str) -> str:
    """The store's URL with its password and any registered secret masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from eval_anything.redact import redact

    try:
        url = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        pass  # not a URL sqlalchemy reads: shown as it is, secrets masked
    return redact(url)


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
