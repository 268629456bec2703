"""Helpers for tests that start a real server process on 127.0.0.1 and stop it by its pid."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_S = 180.0  # Streamlit serves in ~8 s; a loaded 2-core CI machine can take far longer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        return str(resp.read().decode("utf-8", errors="replace"))


def wait_for_health(port: int, proc: subprocess.Popen[str]) -> None:
    """Until Streamlit's health endpoint answers ``ok``; fails with the output if the command
    exits first."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"exited with {proc.returncode} before serving:\n{out}")
        try:
            if http_get(port, "/_stcore/health").strip() == "ok":
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"nothing answered on port {port} within {STARTUP_S:.0f} s")


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        out += [int(x) for x in text.split()]
    return out


def gone(pid: int, wait_s: float = 30.0) -> bool:
    """True once ``pid`` no longer exists (a zombie counts as gone: it serves nothing)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


def assert_port_closed(port: int) -> None:
    """Nothing accepts connections on the port any more."""
    with socket.socket() as s:
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return
    raise AssertionError(f"port {port} still accepts connections")


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
