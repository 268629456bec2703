"""The demo's loop on a tiny model (the real demo uses SmolLM2 and takes minutes): base scored,
DPO checkpoints auto-scored and pushed, a paired difference with its CI, the leaderboard command.
Also: the bundled demo data is what its generator writes, and holds no evaluation item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.trainers import demo_data


def test_bundled_demo_data_is_current_and_held_out() -> None:
    folder = demo_data.data_file().parent
    for name, text in demo_data.render().items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m eval_anything.trainers.demo_data"
        )
    from eval_anything.catalog import load_catalog
    from eval_anything.sources import load_samples

    spec = load_catalog([]).tasks["mini_amg_modality_selection"]
    evaluated = {s.metadata["instruction"].strip().lower() for s in load_samples(spec)}
    trained = {item[0].strip().lower() for item in demo_data.ITEMS}
    assert not evaluated & trained


def test_chosen_answers_score_their_combination() -> None:
    from eval_anything.models.base import ModelOutput
    from eval_anything.scoring.selection import chosen_combination

    for row in demo_data.pairs():
        combo, _ = chosen_combination(ModelOutput(parts=[{"type": "text", "text": row["chosen"]}]))
        assert combo == row["combination"], row["id"]


@pytest.mark.slow
def test_demo_loop_on_a_tiny_model(tmp_path: Path, tiny_llama: Path) -> None:
    from eval_anything.trainers.demo import DemoSettings, report_lines, run_demo

    store = tmp_path / "store.sqlite"
    settings = DemoSettings(
        workdir=tmp_path / "demo", base=str(tiny_llama), max_steps=2, save_steps=1, limit=3,
        batch_size=2, store=str(store), max_length=1024,
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
    assert "verdict:" in text and f"eval-anything leaderboard --store {report.store}" in text
    saved = json.loads((tmp_path / "demo" / "demo_report.json").read_text())
    assert [o["step"] for o in saved["outcomes"]] == [0, 1, 2]
    assert any("step   1: loss" in line for line in lines)
