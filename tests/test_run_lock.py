"""One folder, one writer: the folder lock refuses a second holder, names the first, and frees
itself when its holder dies (even by SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from eval_anything.errors import UserError
from eval_anything.run.folder_lock import LOCK_FILE, FolderBusyError, FolderLock


def test_second_holder_refused_naming_the_first(tmp_path: Path) -> None:
    with FolderLock(tmp_path / "run"):
        with pytest.raises(FolderBusyError) as err:
            FolderLock(tmp_path / "run").acquire()
    msg = str(err.value)
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert f"pid {os.getpid()}" in msg and str(tmp_path / "run") in msg
    # released on exit: the lock file is gone and the folder can be taken again
    assert not (tmp_path / "run" / LOCK_FILE).exists()
    with FolderLock(tmp_path / "run", what="training output dir"):
        pass


def test_lock_of_a_killed_holder_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    code = textwrap.dedent(
        f"""
        import sys, time
        from eval_anything.run.folder_lock import FolderLock
        FolderLock({str(folder)!r}).acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusyError, match=f"pid {child.pid}"):
            FolderLock(folder).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the holder died without cleaning up: its file is left, its lock is not
    assert (folder / LOCK_FILE).exists()
    with FolderLock(folder):
        assert f'"pid": {os.getpid()}' in (folder / LOCK_FILE).read_text()


# ---------------------------------------------------------------- whole runs, real processes

TASK = (
    "task: lock_qa\nsource: {jsonl: data.jsonl}\nloader: {name: qa}\n"
    "scorers: [{name: exact_match}]\n"
)


def _task_folder(root: Path, n: int = 12) -> Path:
    folder = root / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(TASK)
    (folder / "data.jsonl").write_text(
        "".join(f'{{"id": "q{i}", "question": "question {i}", "answer": "a"}}\n' for i in range(n))
    )
    return folder


def _start_run(root: Path, answer: str, out: Path, delay: float) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / "eval-anything"
    return subprocess.Popen(
        [str(exe), "run", "--model", "scripted", "--model-args",
         f"default={answer},name={answer},delay={delay}", "--tasks", "lock_qa",
         "--include-path", str(root / "tasks"), "--output-dir", str(out), "--no-cache",
         "--quiet", "--batch-size", "2"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_into_one_folder_never_mix(tmp_path: Path, attempt: int) -> None:
    from eval_anything.core.results_files import read_results, read_sample_records

    _task_folder(tmp_path)
    out = tmp_path / "run"
    procs = [_start_run(tmp_path, name, out, 0.3) for name in ("model-a", "model-b")]
    done = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in done)
    assert codes == [0, 2], done
    refused = next(err for code, _, err in done if code == 2)
    # refused by the lock while the other writes (named by pid, or "another process (starting
    # up)" in the instant between its lock and its note of who holds it), or, if the other was
    # already done, by run.json
    assert ("this run folder is in use by" in refused or "different model" in refused), refused
    assert str(out) in refused and "Traceback" not in refused
    results = read_results(out)
    winner = results.spec.model_args["default"]
    records = read_sample_records(out, "lock_qa")
    assert len(records) == 12
    assert {r.output[0].text for r in records} == {winner}  # type: ignore[union-attr]


@pytest.mark.slow
def test_resume_after_sigkill(tmp_path: Path) -> None:
    from eval_anything.core.results_files import read_results, read_sample_records, samples_path

    _task_folder(tmp_path, n=40)
    out = tmp_path / "run"
    proc = _start_run(tmp_path, "model-a", out, 0.2)
    log = samples_path(out, "lock_qa")
    while not (log.exists() and log.read_text().count("\n") >= 4):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / LOCK_FILE).exists()  # left behind by the killed holder
    again = _start_run(tmp_path, "model-a", out, 0.0)
    code = again.wait(timeout=300)
    assert code == 0, again.communicate()
    assert read_results(out).tasks["lock_qa"].n == 40
    assert len(read_sample_records(out, "lock_qa")) == 40
    assert not (out / LOCK_FILE).exists()


def test_torn_last_line_is_ignored_then_cut_and_nothing_else_is_skipped(tmp_path: Path) -> None:
    """A kill mid-write leaves a torn last line: reading ignores it, the next append cuts it;
    an unreadable line anywhere else is an error naming the file and line."""
    from eval_anything.core.results import SampleRecord
    from eval_anything.core.results_files import (
        ResultsFileError,
        append_sample_records,
        iter_sample_records,
    )

    log = tmp_path / "samples" / "t.jsonl"
    rec = [SampleRecord(sample_id=f"s{i}", input_ref="r", prompt_hash="p") for i in range(3)]
    append_sample_records(log, rec[:2])
    with log.open("a") as f:
        f.write(rec[2].model_dump_json()[:25])  # torn
    assert [r.sample_id for r in iter_sample_records(log)] == ["s0", "s1"]
    append_sample_records(log, rec[2:])
    assert [r.sample_id for r in iter_sample_records(log)] == ["s0", "s1", "s2"]
    assert log.read_text().count("\n") == 3

    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], "{not a record", *lines[1:]]) + "\n")
    with pytest.raises(ResultsFileError, match=r"t\.jsonl:2"):
        list(iter_sample_records(log))


def test_last_line_found_across_chunks(tmp_path: Path) -> None:
    from eval_anything.core.results_files import _last_line

    f = tmp_path / "log"
    f.write_bytes(b'{"a": 1}\n{"b": 2}\n{"torn": "abcdefghijklmnop')
    with f.open("rb") as r:
        assert _last_line(r, chunk=5) == (18, b'{"torn": "abcdefghijklmnop')
    f.write_bytes(b"no newline at all")
    with f.open("rb") as r:
        assert _last_line(r, chunk=4) == (0, b"no newline at all")
