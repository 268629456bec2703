"""Errors are not answers, and not done: a served model that fails makes the run exit 3 with a
summary on stderr; once the server recovers, a rerun into the folder sends exactly the failed
requests and exits 0 (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faulty_server import FaultyServer
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import EXIT_ITEMS_FAILED
from eval_anything.run.failures import FailPolicy, parse_fail_on_error

PROMPTS = ["alpha question", "beta question", "gamma question", "delta question"]


def write_task(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(
        "task: served_qa\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    rows = [{"id": f"q{i}", "question": p, "answer": f"echo: {p}"} for i, p in enumerate(PROMPTS)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def run_cli(srv: FaultyServer, tasks: Path, out: Path, *extra: str) -> object:
    args = [
        "run", "--model", "openai",
        "--model-args", f"model=m,base_url={srv.base_url},max_retries=1,backoff_base=0.01,"
        "max_backoff=0.01,timeout=1",
        "--tasks", "served_qa", "--include-path", str(tasks), "--output-dir", str(out),
        "--no-cache", "--quiet", *extra,
    ]
    return CliRunner().invoke(app, args)


def test_all_failing_then_recovered(tmp_path: Path) -> None:
    tasks, out = write_task(tmp_path / "tasks"), tmp_path / "run"
    with FaultyServer(mode="status", status=503) as srv:
        first = run_cli(srv, tasks, out)
        assert first.exit_code == EXIT_ITEMS_FAILED, first.output
        assert "4 of 4 items failed after retries" in first.stderr
        assert "HTTP 503" in first.stderr and "rerun" in first.stderr
        assert read_results(out).tasks["served_qa"].n_failed == 4
        assert all(n == 2 for n in srv.prompts.values())  # first attempt + one retry each

        srv.mode, srv.prompts = "ok", type(srv.prompts)()
        second = run_cli(srv, tasks, out)
        assert second.exit_code == 0, second.output
        assert sorted(srv.prompts) == sorted(PROMPTS) and set(srv.prompts.values()) == {1}
    result = read_results(out).tasks["served_qa"]
    assert result.n_failed == 0 and result.metrics["exact_match"].value == 1.0
    assert len(read_sample_records(out, "served_qa")) == 4


def test_only_failed_items_are_retried(tmp_path: Path) -> None:
    tasks, out = write_task(tmp_path / "tasks"), tmp_path / "run"
    with FaultyServer(mode="status", status=500) as srv:
        srv.fail_only = {"beta question"}
        first = run_cli(srv, tasks, out)
        assert first.exit_code == EXIT_ITEMS_FAILED
        assert "1 of 4 items failed" in first.stderr
        srv.fail_only, srv.prompts = None, type(srv.prompts)()
        srv.mode = "ok"
        assert run_cli(srv, tasks, out).exit_code == 0
        assert dict(srv.prompts) == {"beta question": 1}


def test_fail_on_error_tolerates_a_count_or_fraction(tmp_path: Path) -> None:
    tasks = write_task(tmp_path / "tasks")
    with FaultyServer(mode="status", status=500) as srv:
        srv.fail_only = {"beta question"}
        tolerated = run_cli(srv, tasks, tmp_path / "a", "--fail-on-error", "1")
        assert tolerated.exit_code == 0 and "warning: 1 of 4 items failed" in tolerated.stderr
        fraction = run_cli(srv, tasks, tmp_path / "b", "--fail-on-error", "0.2")
        assert fraction.exit_code == EXIT_ITEMS_FAILED  # 1/4 is more than 0.2
        assert run_cli(srv, tasks, tmp_path / "c", "--fail-on-error", "0.3").exit_code == 0
        bad = run_cli(srv, tasks, tmp_path / "d", "--fail-on-error", "lots")
        assert bad.exit_code == 2 and "--fail-on-error" in bad.stderr
        assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("text", "policy"),
    [(None, FailPolicy()), ("3", FailPolicy(count=3, text="3")),
     ("0.1", FailPolicy(fraction=0.1, text="0.1"))],
)
def test_parse_fail_on_error(text: str | None, policy: FailPolicy) -> None:
    assert parse_fail_on_error(text) == policy
    assert parse_fail_on_error("never").exceeded(10**6, 10**6) is False


def test_failed_judge_calls_fail_run_and_score(tmp_path: Path) -> None:
    """A judge that fails for good leaves items unscored by error: ``run`` exits 3, a rerun
    retries them; ``score`` (re-judging) exits 3 the same way, and 0 once the judge answers."""
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "task.yaml").write_text(
        "task: judged_qa\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: pairwise_vs_reference}]\n"
    )
    (folder / "data.jsonl").write_text(
        '{"id": "1", "question": "q one", "answer": "ref"}\n'
        '{"id": "2", "question": "q two", "answer": "ref"}\n'
    )
    with FaultyServer(mode="status", status=500) as srv:
        judge = f"judge=openai:m,base_url={srv.base_url},max_retries=0,attempts=1,timeout=1"
        run = ["run", "--model", "scripted", "--model-args", "default=mine", "--tasks",
               "judged_qa", "--include-path", str(folder), "--output-dir", str(tmp_path / "r"),
               "--no-cache", "--quiet", "--judge", judge]
        first = CliRunner().invoke(app, run)
        assert first.exit_code == EXIT_ITEMS_FAILED, first.output
        assert "2 of 2 items failed" in first.stderr and "judge model error" in first.stderr
        def score(out: str) -> list[str]:
            return ["score", str(tmp_path / "r"), "--judge", judge, "-o", str(tmp_path / out),
                    "--no-cache", "--include-path", str(folder)]

        rejudged = CliRunner().invoke(app, score("s"))
        assert rejudged.exit_code == EXIT_ITEMS_FAILED, rejudged.output
        srv.mode = "ok"  # the judge now answers (an unparseable verdict is unscored, not failed)
        again = CliRunner().invoke(app, run)
        assert again.exit_code == 0, again.output
        assert read_results(tmp_path / "r").tasks["judged_qa"].n_failed == 0
        fixed = CliRunner().invoke(app, score("s2"))
        assert fixed.exit_code == 0, fixed.output
