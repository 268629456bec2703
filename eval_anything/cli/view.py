"""``eval-anything view RUN_DIR...``: the leaderboard over run folders, with no store to set up.

Like ``inspect view`` over a log folder: the runs are pushed into a temporary SQLite store
(removed on exit, or kept with ``--save-store``) and the leaderboard app is served over it.
Every argument that is not a finished run is named on stderr with the reason; with no run at
all the command exits 2 and serves nothing. The app is told the runs it was given
(``EVAL_ANYTHING_VIEW_RUNS``), so it shows every one of them: the count printed is what the
board holds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from eval_anything.cli.common import user_errors
from eval_anything.cli.leaderboard import serve, streamlit_command
from eval_anything.redact import redact


def view_command(
    run_dirs: list[str] = typer.Argument(
        ..., help="Run folders, folders holding runs (runs/), or globs ('runs/*').",
        show_default=False, metavar="RUN_DIR",
    ),
    port: int = typer.Option(8501, "--port", help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to bind."),
    headless: bool = typer.Option(True, "--headless/--open-browser", help="Open a browser tab?"),
    save_store: Path | None = typer.Option(
        None, "--save-store",
        help="Build the store in this new SQLite file and keep it (default: a temporary file, "
        "removed on exit). Browse it later with eval-anything leaderboard --store FILE.",
    ),
) -> None:
    """Browse run folders without a store: the leaderboard over the runs given."""
    from eval_anything.errors import UserError
    from eval_anything.leaderboard.settings import view_runs_env
    from eval_anything.store import open_store
    from eval_anything.store.config import sqlite_url
    from eval_anything.store.run_folders import fill_store, find_runs

    with user_errors(), tempfile.TemporaryDirectory(prefix="eval-anything-view-") as tmp:
        if save_store is not None and save_store.exists():
            raise UserError(f"--save-store {save_store}: the file exists; give a new file name "
                            f"(or browse it: eval-anything leaderboard --store {save_store})")
        found = find_runs(run_dirs)
        url = sqlite_url(save_store if save_store is not None else Path(tmp) / "view.sqlite")
        shown: list[str] = []
        if found.runs:
            with open_store(url) as store:
                shown = list(fill_store(found, store))
        for what, why in found.refused:
            typer.echo(f"not shown: {what}: {redact(why)}", err=True)
        if not found.runs:
            raise UserError(f"no run folder among {' '.join(run_dirs)} (a run folder holds "
                            "results.json: see the reasons above)")
        typer.echo(f"{len(shown)} run(s) from {len(run_dirs)} argument(s); "
                   f"{len(found.refused)} not shown")
        typer.echo(f"serving them on http://{address}:{port} (Ctrl-C stops)")
        code = serve(streamlit_command(url, port, address, headless), env=view_runs_env(shown))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("view")(view_command)
