"""Judge agreement shown where the score is shown: kept in results.json (old files still read),
recorded from labels by ``agreement --write``, printed by ``report``, shown in the leaderboard's
task drilldown, and required by ``gate --min-judge-agreement``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paper_runs import paper_run
from streamlit.testing.v1 import AppTest
from test_agreement import SHIPPED_LABELS, judged_if_text_run, shipped
from test_judge_panels import panel_run
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.results import JudgeAgreement, Results
from eval_anything.core.results_files import read_results, write_results
from eval_anything.gate.verdict import gate
from eval_anything.judges.calibration import agreement_with_labels
from eval_anything.scoring.paper_table import paper_reference
from eval_anything.store import STORE_ENV, open_store, push
from eval_anything.store.synthetic import make_records, make_results, task_result_of, write_run

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
GPT4O = next(r for r in paper_reference().rows if r.model == "GPT-4o")
runner = CliRunner()


def with_agreement(run_dir: Path, task: str, value: float | None) -> Path:
    """``run_dir`` with a panel agreement of ``value`` recorded for ``task``."""
    results = read_results(run_dir)
    tr = results.tasks[task]
    entry = JudgeAgreement(score=tr.primary() or "score", source="panel", judge="panel(mean):x",
                           statistic="krippendorff_alpha", value=value, ci_low=None,
                           ci_high=None, level="interval", n=tr.n, raters=3)
    tasks = {**results.tasks, task: tr.model_copy(update={"judge_agreement": [entry]})}
    write_results(run_dir, results.model_copy(update={"tasks": tasks}))
    return run_dir


def test_old_results_without_the_field_still_read(tmp_path: Path) -> None:
    run = panel_run(tmp_path, "mean")
    doc = json.loads((run / "results.json").read_text("utf-8"))
    for t in doc["tasks"].values():
        t.pop("judge_agreement")
    doc["spec"].pop("judge_repeats")
    old = Results.model_validate(doc)
    assert old.tasks["mini_amg_if_text"].judge_agreement == []
    assert old.spec.judge_repeats == 1
    assert old.tasks["mini_amg_if_text"].lowest_judge_agreement() is None


def test_agreement_write_records_label_figures(tmp_path: Path) -> None:
    ids = [f"if-text-{k:03d}" for k in range(1, 21)]
    ratings = [8, 4, 9, 10, 2, 9, 5, 7, 3, 6, 1, 9, 10, 6, 8, 5, 3, 10, 2, 7]
    run = judged_if_text_run(tmp_path, "rated", {
        sid: f"Rating: [[{r}]]" for sid, r in zip(ids, ratings, strict=True)})
    out = runner.invoke(app, ["agreement", str(run), "--labels", str(SHIPPED_LABELS),
                              "--resamples", "100", "--write"])
    assert out.exit_code == 0, out.output
    (entry,) = read_results(run).tasks["mini_amg_if_text"].judge_agreement
    expected = agreement_with_labels([run], SHIPPED_LABELS, resamples=100)
    head = expected.tasks["mini_amg_if_text"].headline
    assert (entry.source, entry.statistic, entry.n) == ("labels", "kappa_quadratic", 20)
    assert entry.value == pytest.approx(head.figures["kappa_quadratic"].value)
    assert entry.figures["spearman"] == pytest.approx(head.figures["spearman"].value)
    assert entry.judge is not None and entry.judge.startswith("llm:scripted:")
    assert len(shipped("mini_amg_if_text")) == 20
    again = runner.invoke(app, ["agreement", str(run), "--labels", str(SHIPPED_LABELS),
                                "--resamples", "100", "--write"])
    assert again.exit_code == 0
    assert len(read_results(run).tasks["mini_amg_if_text"].judge_agreement) == 1  # replaced


def test_report_prints_agreement_beside_the_judged_scores(tmp_path: Path) -> None:
    run = with_agreement(paper_run(tmp_path, GPT4O, "run-a", model_name="my-model"),
                         "mini_amu", 0.612)
    out = runner.invoke(app, ["report", str(run)], terminal_width=250)
    assert out.exit_code == 0, out.output
    assert "judge agreement" in out.output
    line = next(ln for ln in out.output.splitlines() if "mini_amu" in ln and "0.612" in ln)
    assert "panel(mean):x" in line and "krippendorff_alpha" in line
    doc = json.loads(runner.invoke(app, ["report", str(run), "--format", "json"]).output)
    assert doc["judge_agreement"][0]["value"] == 0.612
    bare = runner.invoke(app, ["report", str(paper_run(tmp_path, GPT4O, "run-b"))])
    assert "not measured" in bare.output


def _judged_pair(tmp_path: Path, base_agreement: float | None,
                 cand_agreement: float | None) -> tuple[Path, Path]:
    runs = []
    for name, agree in (("base", base_agreement), ("cand", cand_agreement)):
        recs = {"gen": make_records("gen", [7.0, 8.0, 6.0, 9.0, 7.0, 8.0], score="rating",
                                    judge="llm:judge"),
                "qa": make_records("qa", [1.0] * 6)}
        from eval_anything.core.results import JudgeInfo

        tasks = {"gen": task_result_of("gen", recs["gen"],
                                       judges=[JudgeInfo(role="judge", identity="llm:judge")]),
                 "qa": task_result_of("qa", recs["qa"])}
        run = write_run(tmp_path / name, make_results(f"{name}-run", tasks,
                                                      model_name=f"model-{name}"), recs)
        runs.append(run if agree is None else with_agreement(run, "gen", agree))
    return runs[0], runs[1]


def test_gate_requires_judge_agreement(tmp_path: Path) -> None:
    base, cand = _judged_pair(tmp_path, 0.8, 0.3)
    plain = {c.task: c for c in gate(base, cand, margin=0.5).tasks}
    assert plain["gen"].verdict == "PASS" and plain["gen"].judge_agreement == 0.3
    held = {c.task: c for c in gate(base, cand, margin=0.5, min_judge_agreement=0.5).tasks}
    assert held["gen"].verdict == "INCONCLUSIVE"
    assert any("below --min-judge-agreement" in n for n in held["gen"].notes)
    assert held["qa"].verdict == plain["qa"].verdict  # no judge: unaffected
    assert {c.task: c.verdict for c in gate(base, cand, margin=0.5,
                                            min_judge_agreement=0.2).tasks}["gen"] == "PASS"
    from eval_anything.gate import report as gate_report

    report = gate(base, cand, margin=0.5, min_judge_agreement=0.5)
    table = gate_report.to_table(report)
    assert "judge agreement" in table.splitlines()[0]
    assert "0.300" in next(ln for ln in table.splitlines() if ln.startswith("gen"))
    assert "below --min-judge-agreement 0.5" in gate_report.to_markdown(report)
    out = runner.invoke(app, ["gate", "--baseline", str(base), "--candidate", str(cand),
                              "--margin", "0.5", "--min-judge-agreement", "0.5", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert {t["task"]: t["verdict"] for t in doc["tasks"]}["gen"] == "INCONCLUSIVE"


def test_gate_unknown_agreement_is_inconclusive(tmp_path: Path) -> None:
    base, cand = _judged_pair(tmp_path, None, None)
    held = {c.task: c for c in gate(base, cand, margin=0.5, min_judge_agreement=0.5).tasks}
    assert held["gen"].verdict == "INCONCLUSIVE" and held["gen"].judge_agreement is None
    assert any("unknown" in n for n in held["gen"].notes)


def test_leaderboard_drilldown_shows_agreement(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base, cand = _judged_pair(tmp_path, 0.8, None)
    url = f"sqlite:///{tmp_path / 'lb.sqlite'}"
    with open_store(url) as store:
        push(base, store=store)
        push(cand, store=store)
    monkeypatch.setenv(STORE_ENV, url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.radio(key="view").set_value("Task drilldown").run()
    at.selectbox(key="dd_task").set_value("gen").run()
    assert not at.exception, [e.value for e in at.exception]
    frame = next(df.value for df in at.dataframe if "measured by" in df.value.columns)
    assert list(frame["agreement"]) == ["0.800"]  # the base run's; the candidate has none
    assert list(frame["judge"]) == ["panel(mean):x"]
    assert "model-base" in frame["model"].iloc[0]
    at.selectbox(key="dd_task").set_value("qa").run()
    assert any("not measured" in c.value for c in at.caption)


def test_run_table_shows_agreement_beside_the_judge(tmp_path: Path) -> None:
    from rich.console import Console

    from eval_anything.cli.common import results_table

    results = read_results(panel_run(tmp_path, "mean"))
    console = Console(width=400, record=True)
    console.print(results_table(results))
    line = next(ln for ln in console.export_text().splitlines() if "mini_amg_if_text" in ln)
    alpha = results.tasks["mini_amg_if_text"].judge_agreement[0].value
    assert "judge=panel(mean):" in line and f"panel agreement {alpha:.3f}" in line
