"""The leaderboard in a real headless Chromium: the served app renders the ranked table.

The browser is driven over the DevTools protocol (tests/browser_support.py): load the page,
wait until the table element exists and the script has finished, then read the DOM and take a
screenshot, kept as ``tests/artifacts/leaderboard-main.png``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (  # noqa: F401  (browser: a fixture used by name)
    TABLE_READY,
    DevTools,
    browser,
    screenshot,
    serve,
    wait_until,
)
from leaderboard_seed import SCRIPT_OUTPUT, seed_leaderboard_store, seed_paper_store


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[str]:
    """The app over the seeded store (undeclared task scales: qa 0-1, gen 1-10)."""
    with serve(seed_leaderboard_store(tmp_path), tmp_path) as url:
        yield url


@pytest.fixture
def served_paper_app(tmp_path: Path) -> Iterator[str]:
    """The app over two mini eval-anything runs (declared scales that differ)."""
    with serve(seed_paper_store(tmp_path), tmp_path) as url:
        yield url


ALERTS = ("[...document.querySelectorAll('[data-testid=\"stAlert\"]')]"
          ".map(e => e.innerText).join('\\n')")
MEAN_BOARD = "mean+of+selected+tasks"  # the first screen shows one board per suite or task
GRID_TEXT = "document.querySelector('[data-testid=\"stDataFrame\"] table')?.innerText"


@pytest.mark.slow
def test_main_page_renders_the_ranked_table_in_chromium(
    served_app: str, browser: DevTools  # noqa: F811
) -> None:
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=served_app + "?board=" + MEAN_BOARD)
    wait_until(lambda: browser.evaluate(TABLE_READY), 90, "the leaderboard table to render")
    # qa (0-1) and gen (1-10) declare no scale: the page refuses their mean, in plain view
    wait_until(lambda: "Mean refused" in (browser.evaluate(ALERTS) or ""), 30,
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
    screenshot(browser, "leaderboard-main.png")

    # the hostile output, in the real DOM: escaped text inside a code block, no script element
    browser.call("Page.navigate", url=served_app + "?view=Sample+browser&run=base-run&task=gen")
    shown = "[...document.querySelectorAll('[data-testid=\"stCode\"]')].map(e => e.innerText)"
    wait_until(lambda: SCRIPT_OUTPUT in (browser.evaluate(f"{shown}.join('\\n')") or ""), 60,
                "the hostile output shown verbatim in a code block")
    assert not browser.evaluate("[...document.scripts].some(s => s.text.includes('pwned'))")
    assert not browser.evaluate("!!document.querySelector('[data-testid=\"stCode\"] b')")


@pytest.mark.slow
def test_mixed_scales_normalized_and_paper_table_in_chromium(
    served_paper_app: str, browser: DevTools  # noqa: F811
) -> None:
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=served_paper_app + "?board=" + MEAN_BOARD)
    wait_until(lambda: browser.evaluate(TABLE_READY), 90, "the leaderboard table to render")
    notice = wait_until(lambda: "Scales differ" in (browser.evaluate(ALERTS) or "")
                         and browser.evaluate(ALERTS), 30, "the normalized-mean notice")
    assert "normalized to 0-1" in notice and "mini_amu 1-10" in notice
    time.sleep(1.0)
    screenshot(browser, "leaderboard-mixed-scales.png")

    browser.call("Page.navigate", url=served_paper_app + "?view=Paper+table")
    wait_until(lambda: "omni-a" in (browser.evaluate(GRID_TEXT) or "")
                and browser.evaluate(TABLE_READY), 90, "the paper table to render")
    grid = browser.evaluate(GRID_TEXT)
    for model in ("omni-a", "omni-b", "GPT-4o", "LLaVA-v1.5-7B"):
        assert model in grid
    # the grid renders only the columns in view: the paper's first columns (AMU, Select)
    assert "3.87 ±" in grid and "0.266 ±" in grid and "Select" in grid
    time.sleep(1.0)
    screenshot(browser, "leaderboard-paper-table.png")
