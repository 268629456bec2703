"""Bad input fails before any model call, names file/field/fix, exits 2, writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_TASK = (
    "task: {name}\nsource: {{jsonl: data.jsonl}}\nloader: {{name: qa}}\n"
    "scorers: [{{name: exact_match}}]\n"
)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "eval-anything"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _write(folder: Path, yaml_text: str, rows: list[dict] | str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(yaml_text)
    text = rows if isinstance(rows, str) else "".join(json.dumps(r) + "\n" for r in rows)
    (folder / "data.jsonl").write_text(text)


def _run(tmp_path: Path, folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    calls = tmp_path / "calls.log"
    return _cli(
        "run",
        "--model",
        "scripted",
        "--model-args",
        f"default=x,calls_log={calls}",
        "--tasks",
        name,
        "--include-path",
        str(folder),
        "--output-dir",
        str(tmp_path / "out"),
        "--no-cache",
        "--quiet",
        cwd=tmp_path,
    )


def _assert_clean_failure(
    tmp_path: Path, proc: subprocess.CompletedProcess[str], *needles: str
) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in proc.stderr, (n, proc.stderr)
    assert not (tmp_path / "calls.log").exists(), "the model was called"
    assert not (tmp_path / "out").exists(), "partial results were written"


def test_unknown_scorer_suggests_the_right_name(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    _write(
        folder,
        GOOD_TASK.format(name="t1").replace("exact_match", "exact_mach"),
        [{"id": "1", "question": "q", "answer": "a"}],
    )
    proc = _run(tmp_path, folder, "t1")
    _assert_clean_failure(
        tmp_path, proc, "task.yaml", "field 'scorers'", "exact_mach", "did you mean 'exact_match'"
    )


def test_missing_field(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    _write(folder, "task: t2\nsource: {jsonl: data.jsonl}\n", [{"id": "1", "question": "q"}])
    proc = _run(tmp_path, folder, "t2")
    _assert_clean_failure(tmp_path, proc, "task.yaml", "field 'scorers'", "Field required")


def test_unknown_field_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    _write(
        folder, GOOD_TASK.format(name="t2b") + "scorer_args: {}\n", [{"id": "1", "question": "q"}]
    )
    proc = _run(tmp_path, folder, "t2b")
    _assert_clean_failure(tmp_path, proc, "field 'scorer_args'", "unknown field")


def test_missing_media_file(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    rows = [
        {
            "id": "1",
            "input": [{"type": "text", "text": "q"}, {"type": "image", "path": "nope.png"}],
            "target": "a",
        }
    ]
    _write(folder, GOOD_TASK.format(name="t3").replace("{name: qa}", "{name: sample}"), rows)
    proc = _run(tmp_path, folder, "t3")
    _assert_clean_failure(
        tmp_path, proc, "task.yaml", "row 0", "input[1].path", "nope.png", "not found"
    )


def test_corrupt_image(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    rows = [{"id": "1", "input": [{"type": "image", "path": "bad.png"}], "target": "a"}]
    _write(folder, GOOD_TASK.format(name="t4").replace("{name: qa}", "{name: sample}"), rows)
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    proc = _run(tmp_path, folder, "t4")
    _assert_clean_failure(tmp_path, proc, "row 0", "input[0].path", "not a readable image")


def test_empty_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    _write(folder, GOOD_TASK.format(name="t5"), "")
    proc = _run(tmp_path, folder, "t5")
    _assert_clean_failure(tmp_path, proc, "field 'source'", "no samples")


def test_duplicate_sample_ids(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    rows = [
        {"id": "1", "question": "q", "answer": "a"},
        {"id": "1", "question": "r", "answer": "b"},
    ]
    _write(folder, GOOD_TASK.format(name="t6"), rows)
    proc = _run(tmp_path, folder, "t6")
    _assert_clean_failure(tmp_path, proc, "duplicate sample id '1'", "row 1")


def test_unknown_task_and_model_suggest(tmp_path: Path) -> None:
    proc = _cli(
        "run",
        "--model",
        "scripted",
        "--tasks",
        "starter_mcq",
        "--quiet",
        "--output-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    _assert_clean_failure(tmp_path, proc, "starter_mcq", "did you mean 'starter_mc'")
    proc = _cli(
        "run",
        "--model",
        "hff",
        "--tasks",
        "starter_mc",
        "--quiet",
        "--output-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    _assert_clean_failure(tmp_path, proc, "--model", "did you mean 'hf'")


@pytest.mark.parametrize("bad", ["judge", "judge=", "=smollm2"])
def test_bad_judge_option(tmp_path: Path, bad: str) -> None:
    proc = _cli(
        "run",
        "--model",
        "scripted",
        "--tasks",
        "starter_gen",
        "--judge",
        bad,
        "--quiet",
        "--output-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    _assert_clean_failure(tmp_path, proc, "ROLE=BINDING")
