"""``eval-anything leaderboard``: serve the Streamlit app over a store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from eval_anything.cli.store import STORE_HELP


def app_path() -> Path:
    import eval_anything.leaderboard as pkg

    return Path(pkg.__file__).resolve().parent / "app.py"


def streamlit_command(store: str | None, port: int, address: str, headless: bool) -> list[str]:
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
    ]
    if store:
        cmd += ["--", "--store", store]
    return cmd


def leaderboard_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    port: int = typer.Option(8501, "--port", help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to bind."),
    headless: bool = typer.Option(True, "--headless/--open-browser", help="Open a browser tab?"),
) -> None:
    """Browse the store: ranked table with CIs, training curves, samples, run comparison."""
    cmd = streamlit_command(store, port, address, headless)
    typer.echo(f"serving the leaderboard on http://{address}:{port} (Ctrl-C stops)")
    try:
        code = subprocess.call(cmd, env=os.environ.copy())
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)
