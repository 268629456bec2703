"""SIGKILL during a concurrent served run, then the same command: it completes, and the server
sees again only the items whose records were not yet in the sample log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, last_user_text

from eval_anything.core.results_files import read_results

N = 120
TASK = "served_resume"


def _task(folder: Path) -> None:
    folder.mkdir()
    rows = [{"id": f"s{i}", "question": f"question {i}", "answer": "7"} for i in range(N)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / f"{TASK}.yaml").write_text(
        f"task: {TASK}\nsource: {{jsonl: rows.jsonl}}\nloader: {{name: qa}}\n"
        "scorers: [{name: exact_match}]\n"
    )


def _cmd(folder: Path, out: Path, base_url: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "eval-anything"), "run", "--model", "openai",
        "--model-args", f"base_url={base_url},model=m,max_concurrency=4",
        "--tasks", TASK, "--include-path", str(folder), "--output-dir", str(out),
        "--no-cache", "--quiet",
    ]


def _written(log: Path) -> list[str]:
    """Sample ids of the whole records in the log (a torn last line does not count)."""
    ids = []
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                ids.append(json.loads(line)["sample_id"])
            except (json.JSONDecodeError, KeyError):
                pass
    return ids


@pytest.mark.slow
def test_sigkill_mid_served_run_then_rerun_recomputes_only_unwritten(tmp_path: Path) -> None:
    folder, out = tmp_path / "tasks", tmp_path / "run"
    _task(folder)
    log = out / "samples" / f"{TASK}.jsonl"
    # 120 items, 4 at a time, 0.1 s each: about 3 s of requests, so the kill lands mid-run
    with FakeOpenAIServer(answers={}, default_answer="7", latency=0.1) as srv:
        proc = subprocess.Popen(_cmd(folder, out, srv.base_url), start_new_session=True)
        deadline = time.time() + 120
        while len(_written(log)) < N // 6 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = set(_written(log))
        assert 0 < len(before) < N, f"the kill should land mid-run ({len(before)} written)"
        assert not (out / "results.json").exists()
        first_run = len(srv.received)

        subprocess.run(_cmd(folder, out, srv.base_url), check=True, timeout=300)
        asked_again = Counter(last_user_text(r["body"]) for r in srv.received[first_run:])

    unwritten = {f"question {i}" for i in range(N) if f"s{i}" not in before}
    assert set(asked_again) == unwritten  # exactly the items not on disk, nothing written
    assert all(n == 1 for n in asked_again.values())
    final = _written(log)
    assert sorted(final) == sorted(f"s{i}" for i in range(N))  # each once
    res = read_results(out)
    assert res.tasks[TASK].n == N
    assert res.tasks[TASK].metrics["exact_match"].value == 1.0
