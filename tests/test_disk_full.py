"""Environmental failures are messages: a run, a push and a cache on a small tmpfs that fills
up, and on one remounted read-only, end with one line naming the path and the fix (exit 4), leave
no torn line in the sample log, and a rerun after space is freed completes the run.

Needs permission to mount a tmpfs (root, or a user namespace); skipped where mounting is
impossible.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.results_files import read_results, read_sample_records, samples_path
from eval_anything.errors import EXIT_ENVIRONMENT

ROWS = 300
ANSWER = "y" * 3000  # ~3 KB per record: 300 records need ~1 MB


def _mount(point: Path, options: str) -> bool:
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                          capture_output=True, text=True)
    return proc.returncode == 0


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "small"
    point.mkdir()
    if not _mount(point, "size=256k"):
        pytest.skip("cannot mount a tmpfs here (needs root or a user namespace)")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _task(tmp: Path) -> Path:
    folder = tmp / "tasks"
    folder.mkdir()
    (folder / "task.yaml").write_text(
        "task: bulky\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    (folder / "data.jsonl").write_text("".join(
        json.dumps({"id": f"r{i}", "question": f"question {i}", "answer": "y"}) + "\n"
        for i in range(ROWS)
    ))
    return folder


def _run(tmp: Path, out: Path) -> object:
    return CliRunner().invoke(app, [
        "run", "--model", "scripted", "--model-args", f"default={ANSWER}", "--tasks", "bulky",
        "--include-path", str(tmp / "tasks"), "--output-dir", str(out), "--no-cache", "--quiet",
        "--batch-size", "16",
    ])


def _one_line_error(result: object, *needles: str) -> None:
    err = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == EXIT_ENVIRONMENT, (result.output, result.exception)  # type: ignore[attr-defined]
    assert isinstance(result.exception, SystemExit)  # type: ignore[attr-defined]
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)


def test_disk_full_then_resume(tmp_path: Path, small_tmpfs: Path) -> None:
    _task(tmp_path)
    out = small_tmpfs / "run"
    full = _run(tmp_path, out)
    _one_line_error(full, "no space left", str(small_tmpfs))
    log = samples_path(out, "bulky")
    kept = read_sample_records(out, "bulky")  # whole records only: every line parses
    assert 0 < len(kept) < ROWS
    assert log.read_bytes().endswith(b"\n")
    assert not list(out.glob(".results.json.*.tmp"))  # no half-written results file

    subprocess.run(["mount", "-o", "remount,size=4m", str(small_tmpfs)], check=True)
    again = _run(tmp_path, out)
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert read_results(out).tasks["bulky"].n == ROWS
    assert len(read_sample_records(out, "bulky")) == ROWS


def test_store_on_a_full_disk(tmp_path: Path, small_tmpfs: Path) -> None:
    _task(tmp_path)
    run = tmp_path / "run"
    assert _run(tmp_path, run).exit_code == 0  # type: ignore[attr-defined]
    (small_tmpfs / "ballast").write_bytes(b"\0" * (200 * 1024))
    pushed = CliRunner().invoke(app, ["push", str(run), "--store", str(small_tmpfs / "s.db")])
    _one_line_error(pushed, "s.db")
    assert "full" in pushed.stderr or "no space" in pushed.stderr


def test_read_only_folder(tmp_path: Path, small_tmpfs: Path) -> None:
    _task(tmp_path)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    result = _run(tmp_path, small_tmpfs / "run")
    _one_line_error(result, "read-only", str(small_tmpfs))
