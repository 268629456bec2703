"""AMU end to end on a small fixture: per-dimension means and `all` by hand, the judge named in
the results, and the input modalities a text-only model did not receive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eval_anything import evaluate
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.media.io import audio_to_wav_bytes

KW = {"visual": ["red ball"], "auditory": ["two beeps"]}
# (dimension, question, the scripted answer, its keyword coverage)
ITEMS = [
    ("perception", "Q1 ball?", "a red ball and two beeps", 1.0),
    ("perception", "Q2 ball?", "a red ball", 0.5),
    ("reasoning", "Q3 ball?", "nothing at all", 0.0),
    ("reasoning", "Q4 ball?", "two beeps only", 0.5),
    ("instruction-following", "Q5 ball?", "[red ball, two beeps]", 1.0),
    ("safety", "Q6 ball?", "I refuse", 0.0),
]


def rating(coverage: float) -> float:
    return 1.0 + 9.0 * coverage


@pytest.fixture()
def amu_task(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    (folder / "media").mkdir(parents=True)
    Image.new("RGB", (8, 8), (200, 0, 0)).save(folder / "media" / "ball.png")
    (folder / "media" / "beeps.wav").write_bytes(
        audio_to_wav_bytes(np.zeros(800, dtype=np.float32), 16000))
    rows = [
        {"question_id": f"q{k}", "question": q, "visual_modality_path": "media/ball.png",
         "auditory_modality_path": "media/beeps.wav", "evaluation_dimension": dim,
         "annotations": [{"answer": "A red ball; two beeps.", "keywords": KW},
                         {"answer": "Unrelated.", "keywords": {"visual": ["cat"],
                                                                "auditory": ["meow"]}}]}
        for k, (dim, q, _, _) in enumerate(ITEMS, 1)
    ]
    (folder / "amu.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (folder / "amu_fixture.yaml").write_text(
        "task: amu_fixture\nsource: {jsonl: amu.jsonl}\nloader: {name: eval_anything_amu}\n"
        "prompt: {template: '{{ question }}'}\nscorers: [{name: amu_rating}]\n"
        "metrics: [{name: mean_by, score: amu, args: {field: evaluation_dimension}}]\n"
        "primary_metric: amu/all\njudges: {judge: keyword}\n"
        "input_modalities: [text, image, audio]\n", "utf-8")
    script = {q: answer for _, q, answer, _ in ITEMS}
    (tmp_path / "script.json").write_text(json.dumps(script), "utf-8")
    return folder


def test_amu_dimension_means_and_all_by_hand(amu_task: Path, tmp_path: Path) -> None:
    res = evaluate("scripted", "amu_fixture", model_args=f"script={tmp_path / 'script.json'}",
                   include_paths=[amu_task], output_dir=tmp_path / "run", cache_path=None,
                   progress=False)
    m = res.tasks["amu_fixture"].metrics
    expected = {
        "perception": (rating(1.0) + rating(0.5)) / 2,
        "reasoning": (rating(0.0) + rating(0.5)) / 2,
        "instruction-following": rating(1.0),
        "safety": rating(0.0),
    }
    for dim, value in expected.items():
        assert m[f"amu/{dim}"].value == pytest.approx(value)
    assert m["amu/all"].value == pytest.approx(sum(expected.values()) / 4)
    # the scripted model is text-only in effect: it consumed no image or audio
    assert m["inputs_consumed"].value == 0.0
    tr = read_results(tmp_path / "run").tasks["amu_fixture"]
    assert [(j.role, j.identity) for j in tr.judges] == [("judge", "keyword:v1")]
    recs = read_sample_records(tmp_path / "run", "amu_fixture")
    assert recs[0].scores["amu"].judge == "keyword:v1"
    assert recs[0].scores["amu"].details["missing_inputs"] == ["image", "audio"]
    assert recs[0].consumed_modalities == ["text"]


def test_amu_with_an_llm_judge_records_raw_judgments(amu_task: Path, tmp_path: Path) -> None:
    judge_script = tmp_path / "judge.json"
    judge_script.write_text(json.dumps({"[Question]": "Fine. Rating: [[6]]"}), "utf-8")
    res = evaluate("scripted", "amu_fixture", model_args=f"script={tmp_path / 'script.json'}",
                   judges={"judge": f"scripted:{judge_script}"}, include_paths=[amu_task],
                   output_dir=tmp_path / "run-llm", cache_path=None, progress=False)
    assert res.tasks["amu_fixture"].metrics["amu/all"].value == pytest.approx(6.0)
    rec = read_sample_records(tmp_path / "run-llm", "amu_fixture")[0].scores["amu"]
    assert rec.raw_judgment == "Fine. Rating: [[6]]" and rec.prompt_hash
    assert rec.judge is not None and rec.judge.startswith("llm:scripted:")
