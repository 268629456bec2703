"""What the browser tests share: the leaderboard served on 127.0.0.1 and a headless Chromium
driven over the DevTools protocol (``websockets``, a Streamlit dependency).

Chromium comes from ``scripts/chromium.sh`` (apt-get); without it a browser test skips, except
under CI where it fails. Screenshots are kept under ``tests/artifacts/`` for a reader to look at.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
WIDTH, HEIGHT = 1280, 900
HEADLESS_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
#: a data grid has rendered and the script has finished running
TABLE_READY = (
    "!!document.querySelector('[data-testid=\"stDataFrame\"] table[role=\"grid\"]') && "
    "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
)
SPINNER_GONE = "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    """Chromium's executable, from scripts/chromium.sh; skips the test when there is none
    (fails under CI, where a skipped browser test would hide a broken page)."""
    out = subprocess.run([str(ROOT / "scripts" / "chromium.sh")], capture_output=True,
                         text=True, timeout=900)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip().splitlines()[-1]
    reason = f"scripts/chromium.sh could not provide chromium: {out.stderr.strip()[-400:]}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def wait_until(check: Any, timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something true (returned), else fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextlib.contextmanager
def serve(url: str, log_dir: Path, extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """The app served by ``eval-anything leaderboard --store URL`` (which runs ``streamlit run
    leaderboard/app.py -- --store URL``) over the store at ``url``; yields the page's address.
    The CLI and its Streamlit child run in a process group of their own, stopped together."""
    port = free_port()
    log_path = log_dir / "streamlit.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from eval_anything.cli import main; main()", "leaderboard",
         "--store", url, "--port", str(port), *extra_args],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "EVAL_ANYTHING_STORE": ""},
        start_new_session=True,
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
        except httpx.HTTPError:
            return proc.poll() is not None  # stop waiting if it died; asserted below

    try:
        wait_until(healthy, 90, "streamlit to serve")
        assert proc.poll() is None, log_path.read_text()
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


class DevTools:
    """The few DevTools-protocol calls the tests need, over one page's websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, width: int = WIDTH, height: int = HEIGHT) -> None:
        """Navigate to ``url`` in a viewport of ``width`` x ``height`` CSS pixels."""
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[DevTools]:
    """A headless Chromium with its own profile folder, driven through its first page."""
    proc = subprocess.Popen([chromium_path(), *HEADLESS_FLAGS, f"--user-data-dir={profile}",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        wait_until(port_file.exists, 60, "chromium's DevTools port")
        port = wait_until(lambda: port_file.read_text().split("\n")[0].strip(), 10, "port")
        pages = wait_until(
            lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json()
                     if t.get("type") == "page"], 30, "a page target")
        from websockets.sync.client import connect

        with connect(pages[0]["webSocketDebuggerUrl"], max_size=1 << 26, open_timeout=30) as ws:
            yield DevTools(ws)
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A fresh headless Chromium for one test."""
    with chromium(tmp_path / "chromium-profile") as page:
        yield page


def screenshot(browser: DevTools, name: str, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Path:
    """Capture the page as ``tests/artifacts/<name>`` and check it is a real, non-blank frame."""
    shot = browser.call("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    target.write_bytes(base64.b64decode(shot["data"]))
    from PIL import Image

    with Image.open(target) as img:
        assert img.size == size
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50  # not blank
    return target
