"""A task that asks for a modality the model cannot emit is said before the run (one line per
task, naming model, task and modality) and recorded in results.json; a model that emits it
gets no line. Both through the real CLI, on a tiny text-only hf model built locally and on the
agent (which renders images)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.results import TaskResult
from eval_anything.core.results_files import read_results

TASK = "mini_amg_if_image"


def run(tmp_path: Path, model: str, model_args: str) -> object:
    args = ["run", "--model", model, "--model-args", model_args, "--tasks", TASK, "--limit", "1",
            "--output-dir", str(tmp_path / "run"), "--no-cache", "--quiet"]
    return CliRunner().invoke(app, args)


def test_a_text_only_model_on_an_image_task_is_warned_and_recorded(
    tmp_path: Path, tiny_llama: Path
) -> None:
    import torch

    torch.set_num_threads(1)
    result = run(tmp_path, "hf", f"pretrained={tiny_llama},dtype=float32")
    assert result.exit_code == 0, (result.output, result.exception)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: model")]
    assert warnings == [
        f"warning: model hf ({tiny_llama}) cannot emit image; task {TASK} asks for image: "
        "answers without it score 0 (use a model that emits image, or --model agent with a "
        "generator for it)"
    ]
    results = read_results(tmp_path / "run")
    assert results.tasks[TASK].modality_gaps == ["image"]
    assert results.model.output_modalities == ["text"]
    assert "(emits text)" in result.stdout  # the results table's header names what it emits


def test_the_agent_which_draws_gets_no_warning(tmp_path: Path) -> None:
    result = run(tmp_path, "agent", "lm=scripted,lm.default=[[image_instruction]]: a red circle")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "cannot emit" not in result.stderr
    results = read_results(tmp_path / "run")
    assert results.tasks[TASK].modality_gaps == []
    assert "image" in results.model.output_modalities


def test_results_written_before_the_field_still_read() -> None:
    old = {"task": "t", "task_version": "1", "task_fingerprint": "f", "n": 1}
    assert TaskResult.model_validate(old).modality_gaps == []
