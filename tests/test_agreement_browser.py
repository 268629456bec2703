"""Judge agreement beside the judged score, as a user sees it: printed by ``eval-anything report``
and shown in the leaderboard's task drilldown in a real headless Chromium.

A run of the mini suite scoring like the paper's GPT-4o row carries a measured agreement for its
judged AMU score (as ``eval-anything agreement --labels F --write`` records it), is pushed to a
SQLite store and served. The browser (the DevTools helpers of tests/browser_support.py) opens
the drilldown, picks the task in its selectbox as a user would, waits until the agreement table
names the judge, the statistic and its value, and keeps a screenshot as
``tests/artifacts/leaderboard-judge-agreement.png``. Without Chromium the test skips, except under
CI where it fails (the rule of tests/browser_support.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (  # noqa: F401  (browser is a fixture used by name)
    DevTools,
    browser,
    screenshot,
    serve,
    wait_until,
)
from paper_runs import paper_run

from eval_anything.core.results import JudgeAgreement, JudgeInfo
from eval_anything.core.results_files import read_results, write_results
from eval_anything.scoring.paper_table import paper_reference
from eval_anything.store import open_store, push

TASK = "mini_amu"
JUDGE = "llm:scripted:amu-rater"
AGREEMENT = JudgeAgreement(score="amu", source="labels", judge=JUDGE,
                           statistic="kappa_quadratic", value=0.734, ci_low=0.512,
                           ci_high=0.871, n=8)
SHOWN = "0.734 [0.512, 0.871]"  # how both the report and the drilldown print the figure
AGREEMENT_GRID = (
    "[...document.querySelectorAll('[data-testid=\"stDataFrame\"] table')]"
    ".map(t => t.innerText).find(t => t.includes('measured by'))"
)
SCORE_GRID = (  # the drilldown's first table: every metric of the task per run
    "document.querySelector('[data-testid=\"stDataFrame\"] table')?.innerText"
)
TASK_SELECT = (  # the drilldown's "Task" select: a combobox with a button that opens its list
    "[...document.querySelectorAll('[data-testid=\"stSelectbox\"]')]"
    ".find(e => e.innerText.startsWith('Task'))"
)
CHOSEN = f"{TASK_SELECT}?.querySelector('input[role=\"combobox\"]')?.value"
OPEN_LIST = f"{TASK_SELECT}.querySelector('button[aria-haspopup=\"listbox\"]')"
GPT4O = next(r for r in paper_reference().rows if r.model == "GPT-4o")
OPTION = ("[...document.querySelectorAll('[role=\"option\"]')]"
          ".find(e => e.innerText.trim() === '{}')")


def judged_run(root: Path) -> Path:
    """A mini-suite run whose judged AMU score has a recorded agreement with human labels."""
    run_dir = paper_run(root, GPT4O, "judged-run", model_name="judged-model")
    results = read_results(run_dir)
    judged = results.tasks[TASK].model_copy(update={
        "judges": [JudgeInfo(role="judge", identity=JUDGE)], "judge_agreement": [AGREEMENT]})
    write_results(run_dir, results.model_copy(update={"tasks": {**results.tasks, TASK: judged}}))
    return run_dir


@pytest.fixture
def judged_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The served leaderboard over a store holding the judged run, and the run's folder."""
    run_dir = judged_run(tmp_path)
    url = f"sqlite:///{tmp_path / 'judged.sqlite'}"
    with open_store(url) as store:
        push(run_dir, store=store)
    with serve(url, tmp_path) as app:
        yield app, run_dir


def _click(page: DevTools, element: str) -> None:
    """A mouse click as a user makes it (move, press, release through the browser's input
    pipeline) at the centre of the element the JS expression finds, scrolled into view."""
    x, y = page.evaluate(f"(() => {{ const e = {element}; e.scrollIntoView({{block: 'center'}});"
                         " const r = e.getBoundingClientRect();"
                         " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                  clickCount=1)


def test_report_prints_agreement_beside_the_judged_score(tmp_path: Path) -> None:
    run_dir = judged_run(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", "from eval_anything.cli import main; main()", "report",
         str(run_dir)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # the judged score: AMU (the judged mini_amu task) in the run's row of the paper table
    header = next(ln for ln in lines if "AMU" in ln and "model" in ln)
    score_row = next(ln for ln in lines if "judged-model" in ln)
    column = [c.strip() for c in header.split("\u2503")].index("AMU")
    assert score_row.split("\u2502")[column].split()[0] == f"{GPT4O.value('amu'):.2f}"
    # and under it, the agreement of the judge behind that score, named with its identity
    assert "judge agreement (how far the judged scores above can be trusted)" in out.stdout
    row = next(ln for ln in lines if TASK in ln and SHOWN in ln)
    assert JUDGE in row and "labels: kappa_quadratic" in row and "judged-run" in row
    assert lines.index(score_row) < lines.index(row)


@pytest.mark.slow
def test_drilldown_shows_agreement_in_chromium(judged_app: tuple[str, Path],
                                               browser: DevTools) -> None:  # noqa: F811
    app, run_dir = judged_app
    task = read_results(run_dir).tasks[TASK]
    score = task.metrics[task.primary() or "amu/all"].value  # the judged score the page shows
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=app + "?view=Task+drilldown")
    wait_until(lambda: browser.evaluate(CHOSEN), 90, "the drilldown's task select")
    _click(browser, OPEN_LIST)
    wait_until(lambda: browser.evaluate(f"!!{OPTION.format(TASK)}"), 30,
                f"{TASK} among the select's options")
    _click(browser, OPTION.format(TASK))
    grid = wait_until(lambda: JUDGE in (browser.evaluate(AGREEMENT_GRID) or "")
                       and browser.evaluate(AGREEMENT_GRID), 90, "the agreement table")
    assert SHOWN in grid and "labels: kappa_quadratic" in grid and "judged-model" in grid
    assert browser.evaluate(CHOSEN) == TASK
    scores = browser.evaluate(SCORE_GRID)
    assert "judged-model" in scores and f"{score:.4f}" in scores
    page = browser.evaluate("document.body.innerText")
    assert "Judge agreement (1 = perfect, 0 = chance" in page
    assert "primary metric amu/all" in page
    # the score chart is on the page with the table under it: both in the screenshot
    assert browser.evaluate("!!document.querySelector('[data-testid=\"stVegaLiteChart\"]')")
    browser.evaluate(
        "[...document.querySelectorAll('[data-testid=\"stDataFrame\"]')]"
        ".find(e => e.innerText.includes('measured by')).scrollIntoView({block: 'end'}); true")
    time.sleep(1.0)  # let the data grid paint its canvas before the screenshot
    screenshot(browser, "leaderboard-judge-agreement.png")
