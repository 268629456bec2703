"""The leaderboard's first screen on a store like a user's after ``make demo``, a few runs, a
``train dpo`` and a ``watch``: models named by hub id and by absolute path, a training run whose
checkpoints the trainer scored and ``watch`` scored again under the same training run id, the
mini eval-anything suite, the starter tasks, and a run whose every item went unscored.

Checked with AppTest (every board ranked, short names, one training run) and in headless
Chromium (the served page, waited for until its tables render; the page text of the screenshot
kept as ``tests/artifacts/leaderboard-first-screen.png`` and shown in docs/leaderboard.md).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from browser_support import (  # noqa: F401  (browser: a fixture used by name)
    ARTIFACTS,
    DevTools,
    browser,
    serve,
    wait_until,
)
from leaderboard_seed import seed_paper_store
from paper_runs import paper_run
from streamlit.testing.v1 import AppTest

from eval_anything.scoring.paper_table import paper_reference
from eval_anything.store import STORE_ENV, open_store, push
from eval_anything.store.synthetic import make_records, make_results, task_result_of, write_run

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "leaderboard" / "app.py")
TRAINING = "dpo-20260101-000000-4f2a"
HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
SCREEN = (1280, 1500)


def _starter_run(root: Path, run_id: str, model: str, mc: list[float | None],
                 gen: list[float | None], minute: int, step: int | None = None) -> Path:
    records = {"starter_mc": make_records("starter_mc", mc),
               "starter_gen": make_records("starter_gen", gen, score="exact_match")}
    tasks = {name: task_result_of(name, recs) for name, recs in records.items()}
    results = make_results(run_id, tasks, model_name=model, step=step,
                           training_run_id=TRAINING if step is not None else None,
                           created_at=f"2026-01-01T00:{minute:02d}:00+00:00")
    return write_run(root / run_id, results, records)


def seed_user_store(root: Path) -> str:
    """The mixed store (see the module doc); run folders under ``root`` pushed as ``push`` does."""
    url = f"sqlite:///{root / 'store.sqlite'}"
    tiny = str(root / "models" / "tiny-llama")
    ckpt = str(root / "runs" / "demo" / "train" / "checkpoint-{step}")
    paper = {r.model: r for r in paper_reference().rows}
    with open_store(url) as store:
        push(_starter_run(root, "hub-starter", HUB_MODEL, [1.0] * 16 + [0.0] * 4,
                          [1.0] * 12 + [0.0] * 8, 1), store=store)
        push(_starter_run(root, "tiny-starter", tiny, [1.0] * 9 + [0.0] * 11,
                          [None] * 20, 2), store=store)  # every exact_match unscored
        for k, step in enumerate((20, 40)):
            mc = [1.0] * (10 + 3 * k) + [0.0] * (10 - 3 * k)
            gen = [1.0] * (4 + 2 * k) + [0.0] * (16 - 2 * k)
            path = ckpt.format(step=step)
            push(_starter_run(root, f"train-step{step}", path, mc, gen, 10 + k, step),
                 store=store)  # the trainer's auto-score
            push(_starter_run(root, f"watch-step{step}", path, mc, gen, 20 + k, step),
                 store=store)  # watch scoring the same checkpoints, same training run id
        push(paper_run(root, paper["GPT-4o"], "mini-a", model_name="omni-a", minute=30),
             store=store)
        push(paper_run(root, paper["LLaVA-v1.5-7B"], "mini-b",
                       model_name=str(root / "models" / "llava-v1.5-7b"), minute=31),
             store=store)
    return url


@pytest.fixture(scope="module")
def user_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_user_store(tmp_path_factory.mktemp("user"))


@pytest.fixture
def app(user_store: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(STORE_ENV, user_store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _boards(at: AppTest) -> dict[str, pd.DataFrame]:
    """The first screen's tables, by board (each board's subheader precedes its table)."""
    names = [h.value.replace("\\", "") for h in at.main.subheader]
    tables = [d.value for d in at.dataframe if "rank" in d.value.columns]
    assert len(names) == len(tables), (names, len(tables))
    return dict(zip(names, tables, strict=True))


def test_first_screen_has_one_ranked_board_per_suite_and_task(app: AppTest) -> None:
    boards = _boards(app)
    assert list(boards) == ["eval-anything-mini", "starter_gen", "starter_mc"]
    for name, table in boards.items():
        assert table["rank"].notna().all() and table["score"].notna().all(), name
        assert table["n"].notna().all() and (table["n"] > 0).all(), name
        assert table["rank"].min() == 1, name
    mini = boards["eval-anything-mini"]
    assert {"AMU", "AMG", "Overall", "Select"} <= set(mini.columns)
    assert mini["model"].iloc[0].startswith("omni-a · ")  # 2.66 Overall against 2.12
    assert mini["model"].iloc[1].startswith("llava-v1.5-7b · ")
    # the run whose exact_match items were all unscored is left out of that board, and said so
    assert len(boards["starter_gen"]) == 3 and len(boards["starter_mc"]) == 4
    assert any("every item unscored" in c.value for c in app.caption)


def test_names_are_short_and_each_training_run_appears_once(app: AppTest) -> None:
    mc = _boards(app)["starter_mc"]
    shown = " ".join(mc["model"])
    assert "/runs/demo" not in shown and str(Path.cwd()) not in shown
    assert any(m.startswith("train/checkpoint-40 @ step 40 · ") for m in mc["model"])
    assert any(m.startswith(f"{HUB_MODEL} · ") for m in mc["model"])
    assert any(m.startswith("tiny-llama · ") for m in mc["model"])
    trained = mc[mc["training run"] != "-"]
    assert set(trained["training run"]) == {TRAINING}
    assert len(trained) == 2  # watch's reruns of the two checkpoints replace, not duplicate
    # watch's runs (the newer) are the ones kept; the board may show a run id's first characters
    assert {str(r)[:8] for r in trained["run_id"]} == {"watch-st"}
    assert sorted(m.split(" · ")[0] for m in trained["model"]) == [
        "train/checkpoint-20 @ step 20", "train/checkpoint-40 @ step 40"]


def test_board_and_filters_round_trip_through_the_url(app: AppTest) -> None:
    app.selectbox(key="rank_on").set_value("starter_mc").run()
    app.sidebar.multiselect(key="f_training").set_value([TRAINING]).run()
    assert app.query_params["board"] == "starter_mc"
    assert app.query_params["training"] == TRAINING
    assert app.query_params["view"] == "Leaderboard"
    shared = AppTest.from_file(APP, default_timeout=60)
    shared.query_params.update({"board": "starter_mc", "training": TRAINING})
    shared.run()
    assert not shared.exception
    assert shared.selectbox(key="rank_on").value == "starter_mc"
    table = next(d.value for d in shared.dataframe if "rank" in d.value.columns)
    assert len(table) == 2  # the training run's two checkpoints only


def _unescaped(table: pd.DataFrame) -> pd.DataFrame:
    """A static table's cells as typed (the page escapes markdown in them)."""
    out = table.map(lambda v: v.replace("\\", "") if isinstance(v, str) else v)
    out.index = [str(i).replace("\\", "") for i in out.index]
    return out


def test_tasks_page_says_what_each_task_measures(app: AppTest) -> None:
    app.sidebar.radio(key="view").set_value("Tasks").run()
    assert not app.exception
    by_name = _unescaped(next(t.value for t in app.table if "modalities" in t.value.columns
                              and "description" in t.value.columns))
    roles = _unescaped(next(t.value for t in app.table if "judge roles" in t.value.columns))
    assert set(by_name.index) >= {"starter_mc", "starter_gen", "mini_amu"}
    assert by_name.loc["starter_mc", "scale"] == "0-1"
    assert by_name.loc["starter_mc", "description"] != "-"
    assert "judge" in roles.loc["mini_amu", "judge roles"]
    assert "starter_mc" not in roles.index  # scored without a judge
    groups = _unescaped(next(t.value for t in app.table if "aggregate" in t.value.columns))
    assert "eval-anything-mini" in set(groups.index)


def test_compare_shows_input_and_target_beside_both_outputs(app: AppTest) -> None:
    app.sidebar.radio(key="view").set_value("Compare runs").run()
    app.selectbox(key="cmp_a").set_value("watch-step20").run()
    app.selectbox(key="cmp_b").set_value("watch-step40").run()
    app.selectbox(key="cmp_task").set_value("starter_mc").run()
    assert not app.exception
    code = [c.value for c in app.code]
    assert "Question 10 of starter_mc?" in code and "target 10" in code  # step 40 got it right
    texts = [t.value for t in app.text]
    assert "A: acc=0" in texts and "B: acc=1" in texts


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve(seed_user_store(tmp_path), tmp_path) as url:
        yield url


BOARDS_READY = (
    "document.querySelectorAll('[data-testid=\"stDataFrame\"] table[role=\"grid\"]').length >= 3"
    " && !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
)
PAGE_TEXT = (
    "[...document.querySelectorAll('h1, h3, [data-testid=\"stCaptionContainer\"], "
    "[data-testid=\"stDataFrame\"] table')].map(e => e.innerText).join('\\n')"
)


@pytest.mark.slow
def test_first_screen_in_chromium(served: str, browser: DevTools) -> None:  # noqa: F811
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=SCREEN[0], height=SCREEN[1],
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=served)
    wait_until(lambda: browser.evaluate(BOARDS_READY), 120, "every board's table to render")
    time.sleep(1.5)  # let the data grids paint their canvases before the screenshot
    text = browser.evaluate(PAGE_TEXT)
    for expected in ("eval-anything-mini", "starter_mc", "starter_gen", "omni-a · ",
                     "train/checkpoint-40 @ step 40", "tiny-llama · ", TRAINING):
        assert expected in text, expected
    assert "None" not in text and "/runs/demo/train" not in text
    assert text.count("train/checkpoint-20 @ step 20") == 2  # once per starter board
    grids = browser.evaluate(
        "[...document.querySelectorAll('[data-testid=\"stDataFrame\"] table')]"
        ".map(t => t.getAttribute('aria-rowcount'))")
    assert grids[:3] == ["3", "4", "5"]  # header + 2 suite runs, 3 and 4 ranked starter runs
    shot = browser.call("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "leaderboard-first-screen.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    from PIL import Image

    with Image.open(target) as img:
        assert img.size == SCREEN
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50  # not blank


def test_paper_store_first_screen_ranks_the_suite(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_ENV, seed_paper_store(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    boards = _boards(at)
    assert next(iter(boards)) == "eval-anything-mini"
    assert boards["eval-anything-mini"]["rank"].notna().all()


def test_drilldown_shows_the_primary_metric_first_and_the_rest_on_request(app: AppTest) -> None:
    app.sidebar.radio(key="view").set_value("Task drilldown").run()
    app.selectbox(key="dd_task").set_value("mini_amu").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table.columns[:5]) == ["model", "run", "training run", "n", "amu/all"]
    assert set(table["model"]) == {"omni-a", "llava-v1.5-7b"}  # short names, never the path
    assert set(table["run"]) == {"mini-a", "mini-b"}
    assert not any(c.startswith("amu/") and c != "amu/all" for c in table.columns)
    app.toggle(key="dd_all").set_value(True).run()
    others = next(d.value for d in app.dataframe if "metric" in d.value.columns)
    assert "amu/perception" in set(others["metric"]) and "amu/all" not in set(others["metric"])
    assert set(others["model"]) == {"omni-a", "llava-v1.5-7b"}
