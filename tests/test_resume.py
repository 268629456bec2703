"""A run killed with SIGKILL resumes: only missing samples are recomputed, metrics equal an
uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval_anything.core.results import Results
from eval_anything.core.results_files import read_results

N = 40


def _task(folder: Path) -> None:
    folder.mkdir()
    (folder / "slow.yaml").write_text(
        "task: slow_task\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    rows = [{"id": f"s{i}", "question": f"q{i}", "answer": str(i % 3)} for i in range(N)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = {f"q{i}": str(i % 2) for i in range(N)}
    (folder / "script.json").write_text(json.dumps(script))


def _cmd(folder: Path, out: Path, calls: Path, delay: float) -> list[str]:
    exe = str(Path(sys.executable).parent / "eval-anything")
    return [
        exe,
        "run",
        "--model",
        "scripted",
        "--model-args",
        f"script={folder / 'script.json'},delay={delay},calls_log={calls}",
        "--tasks",
        "slow_task",
        "--include-path",
        str(folder),
        "--output-dir",
        str(out),
        "--batch-size",
        "4",
        "--no-cache",
        "--quiet",
    ]


def _lines(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


@pytest.mark.slow
def test_sigkill_then_rerun_recomputes_only_missing(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    _task(folder)
    out, calls = tmp_path / "run", tmp_path / "calls.log"
    log = out / "samples" / "slow_task.jsonl"
    proc = subprocess.Popen(_cmd(folder, out, calls, 0.05), start_new_session=True)
    deadline = time.time() + 60
    while _lines(log) < N // 2 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _lines(log)
    assert 0 < done_before < N, "kill should land halfway"
    assert not (out / "results.json").exists()
    calls_before = _lines(calls)

    subprocess.run(_cmd(folder, out, calls, 0.0), check=True, timeout=120)
    recomputed = _lines(calls) - calls_before
    # the batch in flight when killed is the only work that may be redone
    assert recomputed == N - done_before
    resumed = read_results(out)

    fresh_out = tmp_path / "fresh"
    subprocess.run(_cmd(folder, fresh_out, tmp_path / "calls2.log", 0.0), check=True, timeout=120)
    fresh = read_results(fresh_out)
    assert resumed.tasks["slow_task"].metrics == fresh.tasks["slow_task"].metrics
    assert resumed.tasks["slow_task"].n == N


def _evaluate(folder: Path, out: Path, args: dict) -> Results:
    from eval_anything.run.runner import evaluate

    return evaluate(
        "scripted", ["slow_task"], model_args=args, include_paths=[folder], output_dir=out,
        cache_path=None, progress=False,
    )


def test_rerun_into_finished_dir_calls_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    _task(folder)
    calls = tmp_path / "calls.log"
    args = {"script": str(folder / "script.json"), "calls_log": str(calls)}
    first = _evaluate(folder, tmp_path / "run", args)
    assert _lines(calls) == N
    second = _evaluate(folder, tmp_path / "run", args)
    assert _lines(calls) == N
    assert second.run_id == first.run_id
    assert second.tasks["slow_task"].metrics == first.tasks["slow_task"].metrics


def test_a_resumed_run_says_how_many_items_it_kept(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    _task(folder)
    out, calls = tmp_path / "run", tmp_path / "calls.log"
    cmd = [a for a in _cmd(folder, out, calls, 0.0) if a != "--quiet"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "resumed" not in first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, check=True)
    text = " ".join(second.stderr.split())
    assert f"slow_task: resumed from {out / 'samples' / 'slow_task.jsonl'}" in text
    assert f"kept {N} of {N} items, 0 to run" in text


def test_output_dir_of_another_model_is_refused(tmp_path: Path) -> None:
    from eval_anything.errors import ConfigError

    folder = tmp_path / "task"
    _task(folder)
    _evaluate(folder, tmp_path / "run", {"default": "1"})
    with pytest.raises(ConfigError, match="different model"):
        _evaluate(folder, tmp_path / "run", {"default": "2"})
