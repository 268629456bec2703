"""The demo's loop on a tiny model (the real demo uses SmolLM2 and takes minutes): base scored,
SFT or DPO checkpoints auto-scored and pushed, a paired difference with its CI, the leaderboard
command. Also: the bundled demo data is what its generator writes, and holds no evaluation item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.trainers.demo import bundled_data


def test_bundled_demo_data_is_current_and_held_out() -> None:
    folder = bundled_data.data_file().parent
    for name, text in bundled_data.render().items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m eval_anything.trainers.demo.bundled_data"
        )
    from eval_anything.spec.catalog import load_catalog
    from eval_anything.spec.sources import load_samples

    spec = load_catalog([]).tasks["mini_amg_modality_selection"]
    evaluated = {s.metadata["instruction"].strip().lower() for s in load_samples(spec)}
    trained = {item[0].strip().lower() for item in bundled_data.ITEMS}
    assert not evaluated & trained


def test_chosen_answers_score_their_combination() -> None:
    from eval_anything.core.outputs import ModelOutput
    from eval_anything.scoring.selection import chosen_combination

    for row in bundled_data.pairs():
        combo, _ = chosen_combination(ModelOutput(parts=[{"type": "text", "text": row["chosen"]}]))
        assert combo == row["combination"], row["id"]


def test_sft_trains_each_instruction_once_with_its_preferred_answer() -> None:
    from eval_anything.trainers.data.examples import Pair
    from eval_anything.trainers.data.trl_datasets import completions_dataset
    from eval_anything.trainers.demo.loop import preferred_answers

    pairs = [Pair("q1", "good 1", "bad a", system="sys"), Pair("q1", "good 1", "bad b",
             system="sys"), Pair("q2", "good 2", "bad c")]
    answers = preferred_answers(pairs)
    assert [(a.prompt, a.completion, a.system) for a in answers] == [
        ("q1", "good 1", "sys"), ("q2", "good 2", None)]
    chat = completions_dataset(answers, conversational=True)
    assert chat[0]["prompt"] == [{"role": "system", "content": "sys"},
                                 {"role": "user", "content": "q1"}]
    assert chat[1]["prompt"] == [{"role": "user", "content": "q2"}]
    plain = completions_dataset(answers, conversational=False)
    assert plain[0]["prompt"] == "sys\n\nq1" and plain[1]["completion"] == "good 2"


def test_unknown_demo_algorithm_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eval_anything.cli import app

    work = tmp_path / "demo"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--workdir", str(work), "--algorithm", "ppo"])
    assert result.exit_code == 2
    assert "'algorithm'" in result.output and "'sft' or 'dpo'" in result.output
    assert (work / "keep.txt").read_text() == "mine"


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["sft", "dpo"])
def test_demo_loop_on_a_tiny_model(tmp_path: Path, tiny_llama: Path, algorithm: str) -> None:
    from eval_anything.trainers.demo.loop import DemoSettings, report_lines, run_demo

    store = tmp_path / "store.sqlite"
    settings = DemoSettings(
        workdir=tmp_path / "demo", base=str(tiny_llama), algorithm=algorithm, max_steps=2,
        save_steps=1, limit=3, batch_size=2, store=str(store), max_length=1024,
    )
    lines: list[str] = []
    report = run_demo(settings, echo=lines.append)

    assert [(o.name, o.step, o.status) for o in report.outcomes] == [
        ("base", 0, "scored"), ("checkpoint-1", 1, "scored"), ("checkpoint-2", 2, "scored"),
    ]
    assert all(o.pushed_run_id for o in report.outcomes)
    assert report.gain is not None and report.gain.n == 3
    text = "\n".join(report_lines(report, settings))
    assert "last checkpoint - base, paired over 3 items" in text
    from eval_anything.gate.verdict import gate  # the summary's numbers are the gate's

    ends = [Path(report.outcomes[i].run_dir) for i in (0, -1)]
    gated = next(c for c in gate(*ends).tasks if c.task == settings.task)
    g = report.gain
    assert (g.mean, g.ci_low, g.ci_high) == (gated.diff, gated.ci_low, gated.ci_high)
    assert "verdict:" in text and f"eval-anything leaderboard --store {report.store}" in text
    saved = json.loads((tmp_path / "demo" / "demo_report.json").read_text())
    assert [o["step"] for o in saved["outcomes"]] == [0, 1, 2]
    assert any("step   1: loss" in line for line in lines)
    metric = "rewards/accuracies" if algorithm == "dpo" else "mean_token_accuracy"
    assert any(metric in line for line in lines)
    assert report.training_run_id.startswith(f"demo-{algorithm}")
