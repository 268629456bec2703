"""``eval-anything gate`` exit codes and report formats; runs given by directory or store id."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.gate.verdict import gate
from eval_anything.store import push
from eval_anything.store.synthetic import binary_run

runner = CliRunner()


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    base = (np.random.default_rng(0).random(500) < 0.7).astype(float)
    worse = base.copy()
    worse[np.flatnonzero(base == 1.0)[:50]] = 0.0  # a 10-point drop
    return {
        "base": binary_run(tmp_path / "base", "base-run", {"a": base.tolist(), "b": base.tolist()}),
        "same": binary_run(tmp_path / "same", "same-run", {"a": base.tolist(), "b": base.tolist()}),
        "worse": binary_run(tmp_path / "worse", "worse-run",
                            {"a": worse.tolist(), "b": base.tolist()}),
    }


def test_pass_exits_0_and_prints_a_table(runs: dict[str, Path]) -> None:
    out = runner.invoke(app, ["gate", "--baseline", str(runs["base"]),
                              "--candidate", str(runs["same"])])
    assert out.exit_code == 0, out.output
    assert "gate PASS" in out.output and "McNemar" in out.output


def test_fail_exits_1_and_writes_json_junit_markdown(runs: dict[str, Path], tmp_path: Path) -> None:
    junit, md = tmp_path / "out" / "gate.xml", tmp_path / "out" / "gate.md"
    out = runner.invoke(app, ["gate", "--baseline", str(runs["base"]), "--candidate",
                              str(runs["worse"]), "--json", "--junit", str(junit),
                              "--markdown", str(md)])
    assert out.exit_code == 1, out.output
    report = json.loads(out.stdout)
    assert report["verdict"] == "FAIL"
    assert {t["task"]: t["verdict"] for t in report["tasks"]} == {"a": "FAIL", "b": "PASS"}
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["a"]
    text = md.read_text()
    assert "### Eval gate: **FAIL**" in text and "| a | FAIL |" in text


def test_input_errors_exit_2(runs: dict[str, Path], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["gate", "--baseline", str(tmp_path / "nope"),
                                  "--candidate", str(runs["same"]),
                                  "--store", str(tmp_path / "no-store.sqlite")])
    assert missing.exit_code == 2
    assert "not a run directory" in missing.output
    bad_task = runner.invoke(app, ["gate", "--baseline", str(runs["base"]), "--candidate",
                                   str(runs["same"]), "--tasks", "zzz"])
    assert bad_task.exit_code == 2 and "zzz" in bad_task.output
    usage = runner.invoke(app, ["gate", "--baseline", str(runs["base"])])
    assert usage.exit_code == 2


def test_runs_by_store_id_give_the_same_report(runs: dict[str, Path], tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    for run in runs.values():
        push(run, store)
    by_dir = gate(runs["base"], runs["worse"])
    by_id = gate("base-run", "worse-run", store_url=store)
    assert by_id.baseline_run_id == "base-run"
    assert [t.model_dump() for t in by_id.tasks] == [t.model_dump() for t in by_dir.tasks]
    out = runner.invoke(app, ["gate", "--baseline", "base", "--candidate", "worse-r",
                              "--store", store])  # unique prefixes resolve too
    assert out.exit_code == 1, out.output


def test_push_command_is_idempotent(runs: dict[str, Path], tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    for _ in range(2):
        out = runner.invoke(app, ["push", str(runs["base"]), str(runs["same"]), "--store", store])
        assert out.exit_code == 0, out.output
        assert "pushed base-run" in out.output
    from eval_anything.store import open_store, queries

    with open_store(store) as s:
        assert queries.count_runs(s) == 2
    bad = runner.invoke(app, ["push", str(tmp_path), "--store", store])
    assert bad.exit_code == 2 and "results.json" in bad.output


def test_malformed_results_file_exits_2(runs: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text('{"schema_version": 1, "run_id": "x"}')
    out = runner.invoke(app, ["gate", "--baseline", str(broken), "--candidate",
                              str(runs["same"])])
    assert out.exit_code == 2
    assert "not a valid results file" in out.output and "results.json" in out.output
