"""``eval-anything leaderboard`` stops with its Streamlit server: stopping the command by its pid
frees the port and leaves no server behind (the server runs in a process group of its own)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from server_process import (
    assert_port_closed,
    child_pids,
    free_port,
    gone,
    kill_quietly,
    wait_for_health,
)

from eval_anything.store.synthetic import binary_run

CLI = "from eval_anything.cli import main; main()"


@pytest.fixture
def store(tmp_path: Path) -> str:
    from eval_anything.store import open_store, push

    url = f"sqlite:///{tmp_path / 'lb.sqlite'}"
    run = binary_run(tmp_path / "run", "run-a", {"qa": [1, 0, 1]}, model_name="alpha")
    with open_store(url) as opened:
        push(run, store=opened)
    return url


def _serve(store: str, port: int) -> tuple[subprocess.Popen[str], list[int]]:
    cmd = [sys.executable, "-c", CLI, "leaderboard", "--store", store, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_health(port, proc)
    servers = child_pids(proc.pid)
    assert servers, "the Streamlit server runs as a child of the command"
    return proc, servers


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_the_command_stops_the_server(store: str, signum: int) -> None:
    port = free_port()
    proc, servers = _serve(store, port)
    try:
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=60)
    finally:
        kill_quietly(proc.pid)
        for pid in child_pids(proc.pid):
            kill_quietly(pid)
    assert proc.returncode == 0, out
    assert all(gone(pid) for pid in servers), f"server left running: {servers}"
    assert_port_closed(port)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_a_killed_command_takes_its_server_down(store: str) -> None:
    port = free_port()
    proc, servers = _serve(store, port)
    try:
        proc.kill()
        proc.wait(timeout=30)
        assert all(gone(pid) for pid in servers), f"server left running: {servers}"
        assert_port_closed(port)
    finally:
        for pid in servers:
            kill_quietly(pid)
