"""The train/test overlap mark as a user sees it: a score whose task the checkpoint's training data
contained carries ``⚠ overlap N/M`` on the leaderboard, in a real headless Chromium.

A store holds two checkpoints of one training run whose ``starter_gen`` results carry a
``train_overlap`` (as ``train``'s check records it: 3 of the 24 items scored were in the training
data) and a base model's run of the same task, which no training run produced. Runs are built from
numbers through the results contract (``eval_anything.store.synthetic``); no model trains. The
served app is opened on the main board and on the task drilldown (the DevTools helpers of
tests/browser_support.py); each waits until the mark is in the grid's DOM, checks it sits on the
checkpoints' rows and not on the base model's, and keeps a screenshot
(``tests/artifacts/leaderboard-train-overlap.png`` for the board,
``leaderboard-train-overlap-drilldown.png`` for the drilldown). On the board the mark's
column stands beside the score, so it is in view at 1280 px without scrolling. Without Chromium
the test skips, except under CI where it fails (the rule of tests/browser_support.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (  # noqa: F401  (browser is a fixture used by name)
    TABLE_READY,
    DevTools,
    browser,
    screenshot,
    serve,
    wait_until,
)

from eval_anything.core.results import TrainOverlap
from eval_anything.store import open_store, push
from eval_anything.store.synthetic import make_records, make_results, task_result_of, write_run

TASK = "starter_gen"
TRAINING_RUN = "sft-overlapping"
N_ITEMS = 24
OVERLAP = TrainOverlap(flagged=3, n=N_ITEMS, report="/train/sft-overlapping/overlap.json")
MARK = OVERLAP.label()  # "⚠ overlap 3/24": the text both pages show
#: (run id, model name, training step or None for a run of no training run, share correct)
RUNS = [("base-run", "base-model", None, 0.50),
        ("ckpt-100", "policy", 100, 0.625),
        ("ckpt-200", "policy", 200, 0.75)]
GRID = "document.querySelector('[data-testid=\"stDataFrame\"]')"  # the page's first grid
GRID_ROWS = (  # each row the grid renders (only the columns in view), cells joined by " | "
    f"[...({GRID}?.querySelectorAll('table tbody tr') ?? [])]"
    ".map(r => [...r.children].map(c => c.innerText.trim()).join(' | '))"
)
GRID_HEADER = f"{GRID}?.querySelector('table thead')?.innerText"
SPINNER_GONE = "!document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"


def _seeded_store(root: Path) -> str:
    """A SQLite store with the base run and two overlapping checkpoints; its URL."""
    url = f"sqlite:///{root / 'overlap.sqlite'}"
    with open_store(url) as store:
        for run_id, model, step, share in RUNS:
            correct = round(share * N_ITEMS)
            records = make_records(TASK, [1.0] * correct + [0.0] * (N_ITEMS - correct),
                                   score="exact_match")
            result = task_result_of(TASK, records)
            if step is not None:  # what train's check writes into every checkpoint's results
                result = result.model_copy(update={"train_overlap": OVERLAP})
            results = make_results(run_id, {TASK: result}, model_name=model,
                                   training_run_id=None if step is None else TRAINING_RUN,
                                   step=step)
            push(write_run(root / run_id, results, {TASK: records}), store=store)
    return url


@pytest.fixture
def overlap_app(tmp_path: Path) -> Iterator[str]:
    """The served leaderboard over the seeded store."""
    with serve(_seeded_store(tmp_path), tmp_path) as url:
        yield url


def _open(page: DevTools, url: str) -> None:
    page.call("Page.enable")
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
              deviceScaleFactor=1, mobile=False)
    page.call("Page.navigate", url=url)


def _rows_once_marked(page: DevTools, what: str) -> list[str]:
    """The grid's rows once the mark is among them and the script has finished running."""
    try:
        return list(wait_until(
            lambda: page.evaluate(SPINNER_GONE)
            and any(MARK in row for row in page.evaluate(GRID_ROWS) or [])
            and page.evaluate(GRID_ROWS), 90, f"'{MARK}' in the {what}"))
    except AssertionError as timeout:  # say what the grid showed instead
        header = page.evaluate(GRID_HEADER)
        raise AssertionError(f"{timeout}; the grid showed {header!r} over "
                             f"{page.evaluate(GRID_ROWS)!r}") from None


def _check_marks(rows: list[str]) -> None:
    """Every checkpoint's row (found by its run id) carries the mark, the base model's none."""
    assert len(rows) == len(RUNS), rows
    for run_id, _, step, _ in RUNS:
        row = next(r for r in rows if run_id in r)
        assert (MARK in row) == (step is not None), row
    assert not any("⚠" in r for r in rows if "base-run" in r), rows


@pytest.mark.slow
def test_board_and_drilldown_mark_overlapping_scores_in_chromium(
    overlap_app: str, browser: DevTools  # noqa: F811
) -> None:
    _open(browser, overlap_app + f"?board={TASK}")
    wait_until(lambda: browser.evaluate(TABLE_READY), 90, "the leaderboard table to render")
    ranked = wait_until(lambda: browser.evaluate(SPINNER_GONE) and browser.evaluate(GRID_ROWS),
                         30, "the board's rows")
    # ranked by score: the later checkpoint first, the base model last
    assert len(ranked) == len(RUNS), ranked
    assert ["policy @ step 200" in ranked[0], "policy @ step 100" in ranked[1],
            "base-model" in ranked[2]] == [True] * 3, ranked
    # the mark stands beside the score, in view without scrolling the grid sideways
    rows = _rows_once_marked(browser, "board's grid")
    assert [MARK in r for r in rows] == [True, True, False], rows  # in the ranked order
    for row in rows[:2]:  # the cell just before the mark is the score it qualifies
        cells = row.split(" | ")
        assert float(cells[cells.index(MARK) - 1]) in (0.75, 0.625), row
    assert "overlap" in browser.evaluate(GRID_HEADER)
    time.sleep(1.0)  # let the data grid paint its canvas before the screenshot
    screenshot(browser, "leaderboard-train-overlap.png")

    browser.call("Page.navigate", url=overlap_app + "?view=Task+drilldown")
    chosen = ("[...document.querySelectorAll('[data-testid=\"stSelectbox\"]')]"
              ".find(e => e.innerText.startsWith('Task'))"
              "?.querySelector('input[role=\"combobox\"]')?.value")
    wait_until(lambda: browser.evaluate(chosen) == TASK, 90, "the drilldown on " + TASK)
    rows = _rows_once_marked(browser, "drilldown's grid")
    _check_marks(rows)
    assert all(TRAINING_RUN in r for r in rows if MARK in r), rows
    time.sleep(1.0)
    screenshot(browser, "leaderboard-train-overlap-drilldown.png")
