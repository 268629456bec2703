"""Trainer input is validated before anything is written, and a training output folder has one
writer: bad data, media or arguments exit 2 naming the file, field and fix with no folder left
behind; a folder another process trains into is refused, naming the holder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_anything.cli import app

GOOD = {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5"}


def _data(tmp_path: Path, rows: list[dict] | str, name: str = "d.jsonl") -> Path:
    path = tmp_path / name
    text = rows if isinstance(rows, str) else "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text)
    return path


CASES = {
    "unknown format": ([GOOD], ["--format", "tsv"], "unknown data format 'tsv'"),
    "nan in a row": ('{"prompt": "Q", "chosen": "a", "rejected": "b", "w": NaN}\n', [],
                     "d.jsonl:1: NaN is not a number JSON allows"),
    "missing video": ([{"prompt": "Q", "video_path": "gone.mp4", "response_1": "a",
                        "response_2": "b", "overall_response": 1}], [],
                      "row 0: field 'video_path' (video): "),
    "row is a list": ('["a", "b"]\n', [], "row 0: expected a JSON object"),
    "bad preference field": ([{"prompt": "Q", "response_0": "a", "response_1": "b",
                               "better_response_id": 0}], ["--preference-field", "safer"],
                             "preference field 'safer' is missing"),
    "bad trl argument": ([GOOD], ["--set", "training.trl.no_such_arg=1"], "training.trl"),
    "sft from critique rows": ([{"prompt": "Q", "response": "a", "critique": "c"}], [],
                               "rows cannot train SFT"),
    "unknown auto-score task": ([GOOD], ["--tasks", "no_such_task"],
                                "field 'autoscore.tasks': "),
    "llf template syntax": ([{"prompt": "Q"}], ["--critic", "scripted:",
                                                "--set", 'llf.refine_template="{% if %}"'],
                            "field 'llf.refine_template': not a valid Jinja template"),
    "--set value not yaml": ([GOOD], ["--set", "dpo.beta={{ 1"],
                             "--set 'dpo.beta={{ 1': the value is not valid YAML"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_trainer_input_exits_2_and_writes_nothing(
    tmp_path: Path, tiny_llama: Path, case: str
) -> None:
    rows, flags, message = CASES[case]
    data = _data(tmp_path, rows)
    out = tmp_path / "out"
    algorithm = {"sft from critique rows": "sft", "llf template syntax": "llf"}.get(case, "dpo")
    result = CliRunner().invoke(app, [
        "train", algorithm, "--model", str(tiny_llama), "--data", str(data),
        "--output-dir", str(out), *flags,
    ])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_a_training_folder_in_use_is_refused_naming_the_holder(
    tmp_path: Path, tiny_llama: Path
) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from eval_anything.run.folder_lock import FolderLock\n"
         f"FolderLock({str(out)!r}, 'training output folder').acquire()\n"
         "print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(app, [
            "train", "sft", "--model", str(tiny_llama), "--data", str(_data(tmp_path, [GOOD])),
            "--output-dir", str(out), "--max-steps", "1",
        ])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "in use by" in text and f"pid {holder.pid}" in text
        assert not (out / "training_run.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert os.path.isdir(out)
