"""``eval-anything report RUN_DIR... --format paper``: runs in the paper's table layout, beside
the published rows on request; bad input exits 2 naming the folder and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paper_runs import paper_run
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.scoring.paper_table import paper_reference
from eval_anything.store.synthetic import binary_run

runner = CliRunner()
GPT4O = next(r for r in paper_reference().rows if r.model == "GPT-4o")
LLAVA = next(r for r in paper_reference().rows if r.model == "LLaVA-v1.5-7B")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    return {
        "gpt": paper_run(root, GPT4O, "run-gpt4o-like", model_name="my-model"),
        "llava": paper_run(root, LLAVA, "run-llava-like", suite="eval-anything",
                           model_name="other-model"),
    }


def test_paper_layout_of_a_run(runs: dict[str, Path]) -> None:
    out = runner.invoke(app, ["report", str(runs["gpt"]), "--format", "paper"])
    assert out.exit_code == 0, out.output
    for header in ("AMU", "Select", "T-V", "V-A", "AMG", "Overall"):
        assert header in out.output
    line = next(ln for ln in out.output.splitlines() if "my-model" in ln)
    for cell in ("3.96", "0.266", "3.87", "3.92"):  # AMG from GPT-4o's components
        assert cell in line
    assert "±" in out.output  # with the half-width of each 95% CI
    assert "GPT-4o" not in out.output  # the paper rows only on request


def test_paper_rows_beside_on_request(runs: dict[str, Path]) -> None:
    out = runner.invoke(app, ["report", str(runs["gpt"]), str(runs["llava"]), "--with-paper",
                              "--no-ci"])
    assert out.exit_code == 0, out.output
    for row in paper_reference().rows:
        assert row.model in out.output
    assert "eval_exp.png" in out.output  # the source is named
    ours = next(ln for ln in out.output.splitlines() if "other-model" in ln)
    theirs = next(ln for ln in out.output.splitlines() if "LLaVA-v1.5-7B" in ln)
    for cell in ("2.68", "0.182", "1.56", "2.12"):
        assert cell in ours and cell in theirs


def test_json_format(runs: dict[str, Path]) -> None:
    out = runner.invoke(app, ["report", str(runs["gpt"]), "--format", "json", "--with-paper"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    mine = doc["rows"][0]
    assert mine["model"] == "my-model"
    assert mine["scores"]["amg"]["value"] == pytest.approx(3.96, abs=0.006)
    assert mine["scores"]["overall"]["ci_low"] < mine["scores"]["overall"]["value"]
    assert len(doc["rows"]) == 8 and "eval_exp.png" in doc["paper_source"]


def test_bad_input_exits_2(runs: dict[str, Path], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no results file" in missing.output
    other = binary_run(tmp_path / "qa-run", "qa-run", {"qa": [1.0, 0.0]})
    unrelated = runner.invoke(app, ["report", str(other)])
    assert unrelated.exit_code == 2
    assert str(other) in unrelated.output and "--tasks eval-anything" in unrelated.output
    fmt = runner.invoke(app, ["report", str(runs["gpt"]), "--format", "html"])
    assert fmt.exit_code == 2 and "--format" in fmt.output
