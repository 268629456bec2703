"""``eval-anything leaderboard``: serve the Streamlit app over a store.

Streamlit runs as a child process in a process group of its own. Stopping the command (Ctrl-C,
``kill PID``, a closed terminal) stops that whole group, so the port is free when the command
has exited; on Linux the child is also told to stop if the command is killed outright (SIGKILL).
``eval-anything view`` serves through the same :func:`serve`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

import typer

from eval_anything.cli.store import STORE_HELP

# SIGHUP (a closed terminal) exists on POSIX only
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
GRACE_S = 10.0  # Streamlit closes its sessions and the socket well within this


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


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the parent dies, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the signal forwarding below still covers every catchable stop


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signum)
        elif proc.poll() is None:
            proc.send_signal(signum)  # no process groups (Windows): the child alone
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def serve(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run ``cmd`` in its own process group until it exits or this process is asked to stop;
    a stop request is passed to the whole group, and whatever of the group is left after
    :data:`GRACE_S` is killed. Returns 0 after a requested stop, else the child's exit code."""
    proc = subprocess.Popen(
        cmd, env=env if env is not None else os.environ.copy(), start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    stopped: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopped.append(signum)
        _signal_group(proc, signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in STOP_SIGNALS}
    try:
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stop_group(proc)
    return 0 if stopped else code


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM what is left of the child's group (a server it forked), then SIGKILL."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
        proc.wait()


def leaderboard_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    port: int = typer.Option(8501, "--port", help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to bind."),
    headless: bool = typer.Option(True, "--headless/--open-browser", help="Open a browser tab?"),
) -> None:
    """Browse the store: ranked table with CIs, training curves, samples, run comparison.
    The store must exist: a SQLite path that names no file is refused (exit 2), never
    created empty (a store is made by ``push``)."""
    from eval_anything.cli.common import user_errors
    from eval_anything.store.config import require_existing_store

    with user_errors():  # before the server starts: a typo must not serve an empty store
        require_existing_store(store)
    cmd = streamlit_command(store, port, address, headless)
    typer.echo(f"serving the leaderboard on http://{address}:{port} (Ctrl-C stops)")
    raise typer.Exit(serve(cmd))


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)
