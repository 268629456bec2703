"""``eval-anything push RUN_DIR...``: put runs on the leaderboard store."""

from __future__ import annotations

from pathlib import Path

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
            for run_dir, results, records in runs:
                run_id = ingest(opened, results, records, run_dir)
                typer.echo(f"pushed {run_id} from {run_dir} to {opened!r}")


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
