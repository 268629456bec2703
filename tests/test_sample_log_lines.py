"""A task's sample log ends with one line per sample id, whatever was retried on the way; a log
a kill left with repeated ids reads as its last line per id and is rewritten when the task
resumes; the rewrite is atomic (a failure mid-rewrite leaves the old log whole).

The served runs talk to a real HTTP server on 127.0.0.1 (tests/faulty_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faulty_server import FaultyServer
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.results_files import (
    read_results,
    read_sample_records,
    samples_path,
    write_sample_records,
)
from eval_anything.errors import EXIT_ITEMS_FAILED

PROMPTS = [f"question number {i}" for i in range(8)]
FAILING = {PROMPTS[1], PROMPTS[4], PROMPTS[6]}


def write_task(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(
        "task: lines_qa\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    rows = [{"id": f"q{i}", "question": p, "answer": f"echo: {p}"} for i, p in enumerate(PROMPTS)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def run(srv: FaultyServer, tasks: Path, out: Path) -> object:
    args = [
        "run", "--model", "openai",
        "--model-args", f"model=m,base_url={srv.base_url},max_retries=0,timeout=2",
        "--tasks", "lines_qa", "--include-path", str(tasks), "--output-dir", str(out),
        "--no-cache", "--quiet",
    ]
    return CliRunner().invoke(app, args)


def log_ids(out: Path) -> list[str]:
    lines = samples_path(out, "lines_qa").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["sample_id"] for line in lines]


def test_failed_then_retried_items_leave_one_line_per_id(tmp_path: Path) -> None:
    tasks, out = write_task(tmp_path / "tasks"), tmp_path / "run"
    with FaultyServer(mode="status", status=500) as srv:
        srv.fail_only = set(FAILING)
        first = run(srv, tasks, out)
        assert first.exit_code == EXIT_ITEMS_FAILED, first.output
        assert sorted(log_ids(out)) == sorted(f"q{i}" for i in range(8))
        kept = {json.loads(line)["sample_id"]: line for line in
                samples_path(out, "lines_qa").read_text().splitlines()}

        again = run(srv, tasks, out)  # the same three fail again: retried, still one line each
        assert again.exit_code == EXIT_ITEMS_FAILED, again.output
        assert sorted(log_ids(out)) == sorted(kept)

        srv.mode, srv.fail_only = "ok", None
        last = run(srv, tasks, out)
        assert last.exit_code == 0, last.output
    ids = log_ids(out)
    assert len(ids) == len(set(ids)) == 8
    lines = {json.loads(line)["sample_id"]: line
             for line in samples_path(out, "lines_qa").read_text().splitlines()}
    for i, prompt in enumerate(PROMPTS):  # items answered the first time keep their line
        if prompt not in FAILING:
            assert lines[f"q{i}"] == kept[f"q{i}"]
    records = read_sample_records(out, "lines_qa")
    assert all("error" not in r.metadata for r in records)
    result = read_results(out).tasks["lines_qa"]
    assert result.n == 8 and result.n_failed == 0
    assert result.metrics["exact_match"].value == 1.0


def test_a_log_with_repeats_reads_last_and_is_rewritten_on_resume(tmp_path: Path) -> None:
    """A run killed after appending a retried item and before its task ended leaves two lines
    for that id: readers take the last, and the resumed run rewrites the log."""
    tasks, out = write_task(tmp_path / "tasks"), tmp_path / "run"
    with FaultyServer(mode="ok") as srv:
        assert run(srv, tasks, out).exit_code == 0
        log = samples_path(out, "lines_qa")
        lines = log.read_text().splitlines()
        stale = json.loads(lines[2])
        stale["metadata"]["error"] = "an earlier failure"
        killed = [*lines[:2], json.dumps(stale), *lines[3:], lines[2]]  # failed, then retried
        log.write_text("\n".join(killed) + "\n")
        assert len(read_sample_records(out, "lines_qa")) == 8
        assert all("error" not in r.metadata for r in read_sample_records(out, "lines_qa"))

        srv.prompts.clear()
        assert run(srv, tasks, out).exit_code == 0
        assert not srv.prompts  # nothing was asked again: the last line of each id was done
    assert log.read_text().splitlines() == lines


def test_an_interrupted_rewrite_leaves_the_old_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval_anything.core import results_files
    from eval_anything.core.results import SampleRecord

    log = tmp_path / "samples" / "t.jsonl"
    records = [SampleRecord(sample_id=f"s{i}", input_ref="r", prompt_hash="h") for i in range(3)]
    write_sample_records(log, records)
    before = log.read_bytes()

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # stands for a kill between writing the copy and renaming it

    monkeypatch.setattr(results_files.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_sample_records(log, records[:1])
    assert log.read_bytes() == before
    assert [p.name for p in log.parent.iterdir()] == ["t.jsonl"]  # no temporary file left
