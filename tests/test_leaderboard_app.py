"""The Streamlit app under ``streamlit.testing.v1.AppTest`` on a seeded store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from leaderboard_seed import SCRIPT_OUTPUT, seed_leaderboard_store, seed_paper_store
from streamlit.testing.v1 import AppTest

from eval_anything.store import STORE_ENV

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
VIEWS = ["Leaderboard", "Paper table", "Tasks", "Training runs", "Task drilldown", "Sample browser",
         "Compare runs", "Reproducibility"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_leaderboard_store(tmp_path_factory.mktemp("lb"))


@pytest.fixture
def app(seeded: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(STORE_ENV, seeded)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _show(at: AppTest, view: str) -> AppTest:
    at.sidebar.radio(key="view").set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def test_every_page_renders(app: AppTest) -> None:
    for view in VIEWS:
        _show(app, view)
        assert app.title[0].value == "eval-anything leaderboard"
    _show(app, "Training runs")
    curve = _frame_with(app, "step")
    assert sorted(curve["step"].unique()) == [100, 200, 300]
    _show(app, "Reproducibility")
    assert any(m.value == "0123456789ab" for m in app.metric)


def _mean_board(at: AppTest) -> AppTest:
    """The mean-of-tasks board (the first screen shows one board per suite or task)."""
    at.selectbox(key="rank_on").set_value("mean of selected tasks").run()
    assert not at.exception, at.exception
    return at


def test_mean_of_undeclared_scales_is_refused_visibly(app: AppTest) -> None:
    # qa (accuracy 0-1) and gen (ratings 1-10) declare no scale: no mean, and the page says so
    _mean_board(app)
    assert any("Mean refused" in w.value and "qa" in w.value for w in app.warning)
    table = _frame_with(app, "rank")
    assert table["rank"].isna().all() and table["score"].isna().all()
    assert {"qa", "gen"} <= set(table.columns)  # the values stay shown


def test_main_table_ranks_with_cis(app: AppTest) -> None:
    app.selectbox(key="rank_on").set_value("qa").run()
    assert not app.warning
    table = _frame_with(app, "rank")
    assert len(table) == 5
    # primary columns first; the score's CI, ties and the curve behind the toggle (1280 px)
    assert list(table.columns[:5]) == ["rank", "model", "score", "Δ", "Δ 95% CI"]
    assert not {"ci_low", "ci_high", "tied", "trend"} & set(table.columns)
    assert set(table["run_id"]) == {r[:8] for r in ("base-run", "cand-run", "dpo-step100",
                                                     "dpo-step200", "dpo-step300")}
    app.toggle(key="show_secondary").set_value(True).run()
    table = _frame_with(app, "rank")
    assert {"n", "score", "ci_low", "ci_high", "tied", "trend"} <= set(table.columns)
    assert table["rank"].min() == 1 and table["rank"].is_monotonic_increasing
    policy = table[table["model"].str.startswith("policy")]
    assert len(policy) == 3 and all(len(t) == 3 for t in policy["trend"])


def test_filters_change_the_table(app: AppTest) -> None:
    _mean_board(app)
    assert len(_frame_with(app, "rank")) == 5
    app.sidebar.multiselect(key="f_models").set_value(["alpha", "beta"]).run()
    table = _frame_with(app, "rank")
    assert sorted(m.split(" · ")[0] for m in table["model"]) == ["alpha", "beta"]
    app.sidebar.multiselect(key="f_tasks").set_value(["qa"]).run()
    table = _frame_with(app, "rank")
    assert "qa" in table.columns and "gen" not in table.columns
    assert [m.split(" · ")[0] for m in table["model"]] == ["alpha", "beta"]  # 0.70 vs 0.55
    app.sidebar.multiselect(key="f_tasks").set_value([]).run()
    app.sidebar.multiselect(key="f_models").set_value([]).run()
    app.sidebar.multiselect(key="f_modalities").set_value(["image"]).run()
    table = _frame_with(app, "rank")
    assert "gen" in table.columns and "qa" not in table.columns
    app.sidebar.multiselect(key="f_modalities").set_value([]).run()
    app.sidebar.multiselect(key="f_training").set_value(["dpo-1"]).run()
    assert len(_frame_with(app, "rank")) == 3


def test_compare_shows_the_right_differences(app: AppTest) -> None:
    _show(app, "Compare runs")
    app.selectbox(key="cmp_a").set_value("base-run").run()
    app.selectbox(key="cmp_b").set_value("cand-run").run()
    app.selectbox(key="cmp_task").set_value("qa").run()
    assert not app.exception
    diffs = _frame_with(app, "B - A").set_index("task")
    assert diffs.loc["qa", "B - A"] == pytest.approx(-3 / 20)
    assert diffs.loc["gen", "B - A"] == pytest.approx(0.0)
    assert diffs.loc["gen", "verdict"] == "PASS"
    items = _frame_with(app, "output A")
    assert list(items["sample_id"]) == ["qa-0000", "qa-0001", "qa-0002"]
    assert list(items["A"]) == [1.0, 1.0, 1.0] and list(items["B"]) == [0.0, 0.0, 0.0]


def test_hostile_output_is_shown_as_text(app: AppTest) -> None:
    _show(app, "Sample browser")
    app.selectbox(key="sb_run").set_value("base-run").run()
    app.selectbox(key="sb_task").set_value("gen").run()
    assert not app.exception
    shown = [c.value for c in app.code]
    assert SCRIPT_OUTPUT in shown  # verbatim, in a code block (never interpreted)
    assert "Rating: [[7.0]]" in shown  # the judge's rationale
    for el in [*app.markdown, *app.caption, *app.get("html")]:
        assert "<script" not in str(getattr(el, "value", "")), el
    assert len(app.get("image")) == 2, "the output image and the (GIF) video are shown"
    assert app.get("audio"), "the stored output audio is playable"


def test_drilldown_opens_the_sample_browser(app: AppTest) -> None:
    _show(app, "Task drilldown")
    app.selectbox(key="dd_task").set_value("qa").run()
    metrics = _frame_with(app, "acc")
    assert len(metrics) == 5
    app.button(key="dd_open").click().run()
    assert not app.exception
    assert app.sidebar.radio(key="view").value == "Sample browser"
    assert app.selectbox(key="sb_task").value == "qa"


def test_empty_store_says_how_to_fill_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eval_anything.store import open_store

    open_store(str(tmp_path / "empty.sqlite")).close()  # an existing store with no runs
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "empty.sqlite"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "eval-anything push" in at.info[0].value


def test_missing_store_file_is_refused_not_created(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    typo = tmp_path / "typo.sqlite"
    monkeypatch.setenv(STORE_ENV, str(typo))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(str(typo) in e.value for e in at.error), [e.value for e in at.error]
    assert not typo.exists()


def test_cli_builds_the_streamlit_command() -> None:
    from eval_anything.cli.leaderboard import app_path, streamlit_command

    assert app_path() == Path(APP)
    cmd = streamlit_command("postgresql://u@h/db", 8600, "127.0.0.1", True)
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert cmd[-3:] == ["--", "--store", "postgresql://u@h/db"]
    assert "8600" in cmd


def test_store_url_comes_from_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from eval_anything.leaderboard.settings import store_url

    monkeypatch.delenv(STORE_ENV, raising=False)
    assert store_url(["--store", "postgresql://u@h/db"]) == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv(STORE_ENV, "/tmp/x.sqlite")
    assert store_url([]) == "sqlite:////tmp/x.sqlite"


@pytest.fixture(scope="module")
def paper_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_paper_store(tmp_path_factory.mktemp("paper"))


@pytest.fixture
def paper_app(paper_store: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(STORE_ENV, paper_store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_mixed_declared_scales_are_normalized_visibly(paper_app: AppTest) -> None:
    _mean_board(paper_app)
    notes = [i.value for i in paper_app.info]
    assert any("Scales differ" in n and "normalized to 0-1" in n for n in notes), notes
    assert any("mini_amu 1-10" in n and "mini_amg_modality_selection 0-1" in n for n in notes)
    table = _frame_with(paper_app, "rank")
    assert table["score"].between(0, 1).all()
    assert [m.split(" · ")[0] for m in table["model"]] == ["omni-a", "omni-b"]


def test_paper_view_puts_runs_beside_the_published_rows(paper_app: AppTest) -> None:
    _show(paper_app, "Paper table")
    table = _frame_with(paper_app, "Overall").set_index("model")
    assert {"omni-a", "omni-b", "GPT-4o", "Gemini-1.5-Pro"} <= set(table.index)
    assert table.loc["omni-a", "AMG"].startswith("3.96 ±")
    assert table.loc["GPT-4o", "AMG"] == "3.96"
    assert table.loc["omni-b", "Overall"].startswith("2.12 ±")
    paper_app.toggle(key="paper_beside").set_value(False).run()
    table = _frame_with(paper_app, "Overall")
    assert sorted(table["model"]) == ["omni-a", "omni-b"]
