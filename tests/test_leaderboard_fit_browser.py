"""Every page of the leaderboard fits a 1280 px wide screen, on a store like a user's.

"Fits" means nothing is off-screen sideways: the page does not scroll horizontally
(``document.documentElement.scrollWidth <= window.innerWidth``), and no table scrolls
horizontally inside itself. A Streamlit table is a Glide data grid that scrolls in its own
``.dvn-scroller`` element, so a grid wider than its box never widens the page: its scroller's
``scrollWidth`` past its ``clientWidth`` is what a reader has to scroll to see. A static table
(``st.table``) is checked the same way: its ``<table>`` no wider than its box.

The store (``leaderboard_seed.seed_mixed_store``) holds a training run's five checkpoints on the
same items, a mini eval-anything suite run, one hub model's ``starter_mc`` at two ``--limit``
values and a model named by a long absolute path. One served app and one headless Chromium
(tests/browser_support.py) visit every page of ``leaderboard/app.py``'s ``VIEWS`` through its
deep link (``?view=``) at 1280x900; each page's screenshot is kept as
``tests/artifacts/leaderboard-1280-<page>.png`` and its widths are printed (``-s``).
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from browser_support import SPINNER_GONE, DevTools, chromium, screenshot, serve, wait_until
from leaderboard_seed import MIXED_PAPER_MODEL, mixed_runs, seed_mixed_store

from eval_anything.leaderboard.ranking import short_model_name

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 900


def app_pages() -> list[str]:
    """The page names of ``VIEWS`` in leaderboard/app.py, read from its source (importing the
    app would run it), so a page added there is checked here too."""
    tree = ast.parse((ROOT / "leaderboard" / "app.py").read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == "VIEWS" for t in node.targets)):
            return [ast.literal_eval(k) for k in node.value.keys if k is not None]
    raise AssertionError("leaderboard/app.py defines no VIEWS dict")


PAGES = app_pages()
#: the page has rendered: its header is there, the script is idle, no element is still a
#: loading placeholder (stSkeleton), and every table has drawn
PAGE_READY = (
    "!!document.querySelector('[data-testid=\"stMain\"] h2') && " + SPINNER_GONE + " && "
    "!document.querySelector('[data-testid=\"stSkeleton\"]') && "
    "[...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
    ".every(g => !!g.querySelector('.dvn-scroller'))"
)
WIDTHS = """(() => {
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')].map(g => {
    const s = g.querySelector('.dvn-scroller');
    const key = [...g.querySelectorAll('table thead th')].slice(0, 3)
      .map(c => c.innerText.trim()).join('|');
    return {key: '[' + key + ']', scrollWidth: s ? s.scrollWidth : -1,
            clientWidth: s ? s.clientWidth : -1};
  });
  const statics = [...document.querySelectorAll('[data-testid="stTable"]')].map(t => {
    const key = [...t.querySelectorAll('thead th')].slice(0, 3)
      .map(c => c.innerText.trim()).join('|');
    const table = t.querySelector('table');
    return {key: 'static [' + key + ']', scrollWidth: table ? table.scrollWidth : -1,
            clientWidth: t.clientWidth};
  });
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          grids: grids.concat(statics)};
})()"""
MAIN_TEXT = "document.querySelector('[data-testid=\"stMain\"]')?.innerText || ''"
GRID_TEXT = ("[...document.querySelectorAll('[data-testid=\"stDataFrame\"] table')]"
             ".map(t => t.innerText).join('\\n')")


def slug(page: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One served app over the mixed store for every page of this module."""
    root = tmp_path_factory.mktemp("mixed")
    with serve(seed_mixed_store(root), root) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    """One headless Chromium for every page of this module."""
    with chromium(tmp_path_factory.mktemp("chromium") / "profile") as devtools:
        yield devtools


def open_page(page: DevTools, url: str, what: str) -> None:
    """Load ``url`` at 1280x900 and wait until it has rendered and stayed idle a moment (the
    grids and charts paint after the script ends)."""
    page.open(url, WIDTH, HEIGHT)
    wait_until(lambda: page.evaluate(PAGE_READY), 120, f"the {what} page to render")
    time.sleep(1.5)
    wait_until(lambda: page.evaluate(PAGE_READY), 60, f"the {what} page to settle")


def overflow(widths: dict[str, Any]) -> list[str]:
    """What is off-screen sideways: the page, and each table that scrolls inside itself."""
    out = []
    if widths["scrollWidth"] > widths["innerWidth"]:
        out.append(f"page scrollWidth {widths['scrollWidth']} > width {widths['innerWidth']}")
    for g in widths["grids"]:
        if g["scrollWidth"] > g["clientWidth"]:
            out.append(f"table {g['key']}: scrollWidth {g['scrollWidth']} > clientWidth "
                       f"{g['clientWidth']} ({g['scrollWidth'] - g['clientWidth']} px hidden)")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_1280_px(app: str, page: DevTools, name: str) -> None:
    open_page(page, f"{app}?view={quote_plus(name)}", name)
    screenshot(page, f"leaderboard-1280-{slug(name)}.png")
    widths = page.evaluate(WIDTHS)
    print(f"\n{name}: page {widths['scrollWidth']}/{widths['innerWidth']}; tables "
          + ", ".join(f"{g['key']} {g['scrollWidth']}/{g['clientWidth']}"
                      for g in widths["grids"]))
    assert not overflow(widths), f"{name} at {WIDTH} px: " + "; ".join(overflow(widths))
    text = page.evaluate(MAIN_TEXT)
    assert "/mnt/shared" not in text, f"{name} shows an absolute model path"


def _shown(page: DevTools) -> str:
    return str(page.evaluate(MAIN_TEXT)) + "\n" + str(page.evaluate(GRID_TEXT))


@pytest.mark.slow
def test_every_seeded_run_is_shown(app: str, page: DevTools) -> None:
    """Each run's short name is on the main board; a run the board leaves out (an older run of
    the same checkpoint, here the hub model's --limit 10 run) is on its task's drilldown, told
    apart by its short run id."""
    open_page(page, app, "Leaderboard")
    runs = mixed_runs()
    labels = [short_model_name(r["model"]) + ("" if r["step"] is None else f" @ step {r['step']}")
              for r in runs] + [MIXED_PAPER_MODEL]

    def all_labels() -> str | None:
        text = _shown(page)
        return text if all(lb in text for lb in labels) else None

    try:  # the grids put their rows in the DOM as they paint: wait for every label
        board = wait_until(all_labels, 30, "every seeded run's label on the main board")
    except AssertionError:
        board = _shown(page)
        missing = [lb for lb in labels if lb not in board]
        raise AssertionError(f"not on the main board: {missing}\n{board}") from None
    assert MIXED_PAPER_MODEL in board
    for task in ("starter_mc", "starter_gen"):
        open_page(page, f"{app}?view=Task+drilldown&task={task}", f"{task} drilldown")
        shown = _shown(page)
        for run in runs:
            if task in run["tasks"]:
                assert run["run_id"][:8] in shown, f"run {run['run_id']} not on {task}'s page"
        assert "/mnt/shared" not in shown
        assert not overflow(page.evaluate(WIDTHS)), task
    # the training run's checkpoints, each bar named by its short name, step and run id
    screenshot(page, "leaderboard-1280-task-drilldown-starter_gen.png")
