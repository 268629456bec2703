"""The leaderboard in a real headless Chromium: the served app renders the ranked table.

The browser is driven over the DevTools protocol (``websockets``, a Streamlit dependency): load
the page, wait until the table element exists and the script has finished, then read the DOM and
take a screenshot, kept as ``tests/artifacts/leaderboard-main.png``. Chromium comes from
``scripts/chromium.sh`` (apt-get); without it the test skips, except under CI where it fails.
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
from leaderboard_seed import SCRIPT_OUTPUT, seed_leaderboard_store, seed_paper_store

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
HEADLESS_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,900", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
TABLE_READY = (
    "!!document.querySelector('[data-testid=\"stDataFrame\"] table[role=\"grid\"]') && "
    "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium() -> str:
    out = subprocess.run([str(ROOT / "scripts" / "chromium.sh")], capture_output=True,
                         text=True, timeout=900)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip().splitlines()[-1]
    reason = f"scripts/chromium.sh could not provide chromium: {out.stderr.strip()[-400:]}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextlib.contextmanager
def _serve(url: str, tmp_path: Path) -> Iterator[str]:
    """The app served by ``eval-anything leaderboard --store URL`` (which runs ``streamlit run
    leaderboard/app.py -- --store URL``) over the store at ``url``."""
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from eval_anything.cli import main; main()", "leaderboard",
         "--store", url, "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "EVAL_ANYTHING_STORE": ""},
        start_new_session=True,  # its own process group: the CLI and its streamlit child
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
        except httpx.HTTPError:
            return proc.poll() is not None  # stop waiting if it died; asserted below

    try:
        _wait_until(healthy, 90, "streamlit to serve")
        assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[str]:
    """The app over the seeded store (undeclared task scales: qa 0-1, gen 1-10)."""
    with _serve(seed_leaderboard_store(tmp_path), tmp_path) as url:
        yield url


@pytest.fixture
def served_paper_app(tmp_path: Path) -> Iterator[str]:
    """The app over two mini eval-anything runs (declared scales that differ)."""
    with _serve(seed_paper_store(tmp_path), tmp_path) as url:
        yield url


ALERTS = ("[...document.querySelectorAll('[data-testid=\"stAlert\"]')]"
          ".map(e => e.innerText).join('\\n')")
MEAN_BOARD = "mean+of+selected+tasks"  # the first screen shows one board per suite or task
GRID_TEXT = "document.querySelector('[data-testid=\"stDataFrame\"] table')?.innerText"


def _screenshot(browser: DevTools, name: str) -> Path:
    """Capture the page as ``tests/artifacts/<name>`` and check it is a real, non-blank frame."""
    shot = browser.call("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    target.write_bytes(base64.b64decode(shot["data"]))
    from PIL import Image

    with Image.open(target) as img:
        assert img.size == (1280, 900)
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50  # not blank
    return target


class DevTools:
    """The few DevTools-protocol calls the test needs, over one page's websocket."""

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


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen([_chromium(), *HEADLESS_FLAGS, f"--user-data-dir={profile}",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        _wait_until(port_file.exists, 60, "chromium's DevTools port")
        port = _wait_until(lambda: port_file.read_text().split("\n")[0].strip(), 10, "port")
        pages = _wait_until(
            lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json()
                     if t.get("type") == "page"], 30, "a page target")
        from websockets.sync.client import connect

        with connect(pages[0]["webSocketDebuggerUrl"], max_size=1 << 26, open_timeout=30) as ws:
            yield DevTools(ws)
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.slow
def test_main_page_renders_the_ranked_table_in_chromium(served_app: str, browser: DevTools) -> None:
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=served_app + "?board=" + MEAN_BOARD)
    _wait_until(lambda: browser.evaluate(TABLE_READY), 90, "the leaderboard table to render")
    # qa (0-1) and gen (1-10) declare no scale: the page refuses their mean, in plain view
    _wait_until(lambda: "Mean refused" in (browser.evaluate(ALERTS) or ""), 30,
                "the refused-mean notice")
    time.sleep(1.0)  # let the data grid paint its canvas before the screenshot
    title = browser.evaluate("document.querySelector('h1')?.innerText")
    assert "eval-anything leaderboard" in title
    grid = browser.evaluate(
        "(() => { const t = document.querySelector('[data-testid=\"stDataFrame\"] table');"
        " return {rows: t.getAttribute('aria-rowcount'), text: t.innerText}; })()"
    )
    assert grid["rows"] == "6"  # header + 5 checkpoints
    for model in ("alpha · ", "beta · ", "policy @ step 300 · "):
        assert model in grid["text"]
    _screenshot(browser, "leaderboard-main.png")

    # the hostile output, in the real DOM: escaped text inside a code block, no script element
    browser.call("Page.navigate", url=served_app + "?view=Sample+browser&run=base-run&task=gen")
    shown = "[...document.querySelectorAll('[data-testid=\"stCode\"]')].map(e => e.innerText)"
    _wait_until(lambda: SCRIPT_OUTPUT in (browser.evaluate(f"{shown}.join('\\n')") or ""), 60,
                "the hostile output shown verbatim in a code block")
    assert not browser.evaluate("[...document.scripts].some(s => s.text.includes('pwned'))")
    assert not browser.evaluate("!!document.querySelector('[data-testid=\"stCode\"] b')")


@pytest.mark.slow
def test_mixed_scales_normalized_and_paper_table_in_chromium(
    served_paper_app: str, browser: DevTools
) -> None:
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=served_paper_app + "?board=" + MEAN_BOARD)
    _wait_until(lambda: browser.evaluate(TABLE_READY), 90, "the leaderboard table to render")
    notice = _wait_until(lambda: "Scales differ" in (browser.evaluate(ALERTS) or "")
                         and browser.evaluate(ALERTS), 30, "the normalized-mean notice")
    assert "normalized to 0-1" in notice and "mini_amu 1-10" in notice
    time.sleep(1.0)
    _screenshot(browser, "leaderboard-mixed-scales.png")

    browser.call("Page.navigate", url=served_paper_app + "?view=Paper+table")
    _wait_until(lambda: "omni-a" in (browser.evaluate(GRID_TEXT) or "")
                and browser.evaluate(TABLE_READY), 90, "the paper table to render")
    grid = browser.evaluate(GRID_TEXT)
    for model in ("omni-a", "omni-b", "GPT-4o", "LLaVA-v1.5-7B"):
        assert model in grid
    # the grid renders only the columns in view: the paper's first columns (AMU, Select)
    assert "3.87 ±" in grid and "0.266 ±" in grid and "Select" in grid
    time.sleep(1.0)
    _screenshot(browser, "leaderboard-paper-table.png")
