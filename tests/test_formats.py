"""Loading the public eval-anything formats: fixtures with the exact field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.spec.sources import load_samples
from eval_anything.spec.task import TaskSpecError, load_spec_file

AMU_ROW = {
    "question_id": "q-001",
    "question": "How many beeps, and what color is the ball?",
    "visual_modality_path": "visual/ball.png",
    "auditory_modality_path": "auditory/beeps.wav",
    "evaluation_dimension": "Perception",
    "annotations": [
        {"answer": "Two beeps; the ball is red.",
         "keywords": {"visual": ["red ball"], "auditory": ["two beeps"]}},
        {"answer": "A red ball and 2 beeps.", "keywords": {"visual": ["red"], "auditory": ["2"]}},
    ],
}


def write_task(folder: Path, name: str, loader: str, rows: list[dict], args: dict | None = None,
               fmt: str = "jsonl") -> Path:
    data = folder / f"{name}.{fmt}"
    if fmt == "jsonl":
        data.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    spec = folder / f"{name}.yaml"
    spec.write_text(
        f"task: {name}\nsource: {{jsonl: {data.name}}}\n"
        f"loader: {{name: {loader}, args: {json.dumps(args or {})}}}\n"
        "scorers: [{name: exact_match}]\n", "utf-8"
    )
    return spec


def make_media(folder: Path, *rel: str) -> None:
    """Real, decodable files at the fixture's media paths (the loader checks them)."""
    import numpy as np
    from PIL import Image

    from eval_anything.media.io import audio_to_wav_bytes, frames_to_gif_bytes

    for r in rel:
        p = folder / r
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".png":
            Image.new("RGB", (4, 4), (255, 0, 0)).save(p)
        elif p.suffix == ".wav":
            p.write_bytes(audio_to_wav_bytes(np.zeros(160, dtype=np.float32), 16000))
        else:  # a video: the loader probes it (an animated GIF is a video PyAV reads)
            frames = [Image.new("RGB", (8, 8), (i * 60, 0, 0)) for i in range(3)]
            p.write_bytes(frames_to_gif_bytes(frames))


def load(spec_file: Path) -> list:
    spec = load_spec_file(spec_file)
    return load_samples(spec)  # type: ignore[arg-type]


def test_amu_row_becomes_a_sample_with_media_question_and_references(tmp_path: Path) -> None:
    make_media(tmp_path, "visual/ball.png", "auditory/beeps.wav")
    (s,) = load(write_task(tmp_path, "amu_fx", "eval_anything_amu", [AMU_ROW]))
    assert s.id == "q-001"
    assert [type(p) for p in s.input] == [ImagePart, AudioPart, TextPart]
    assert s.input[0].path == str(tmp_path / "visual" / "ball.png")
    assert s.input[2].text == AMU_ROW["question"]
    assert s.references == ["Two beeps; the ball is red.", "A red ball and 2 beeps."]
    assert s.metadata["evaluation_dimension"] == "perception"
    assert s.metadata["annotations"][0] == {
        "answer": "Two beeps; the ball is red.",
        "visual_keywords": ["red ball"], "auditory_keywords": ["two beeps"],
    }


def test_amu_video_path_and_media_root(tmp_path: Path) -> None:
    row = {**AMU_ROW, "visual_modality_path": "clips/c.mp4"}
    make_media(tmp_path / "m", "clips/c.mp4", "auditory/beeps.wav")
    (s,) = load(write_task(tmp_path, "amu_v", "eval_anything_amu", [row], {"media_root": "m"}))
    assert isinstance(s.input[0], VideoPart)
    assert s.input[0].path == str(tmp_path / "m" / "clips" / "c.mp4")


@pytest.mark.parametrize("field", ["question", "annotations", "evaluation_dimension",
                                   "auditory_modality_path"])
def test_amu_row_missing_a_field_names_file_row_and_field(tmp_path: Path, field: str) -> None:
    make_media(tmp_path, "visual/ball.png", "auditory/beeps.wav")
    rows = [AMU_ROW, {k: v for k, v in AMU_ROW.items() if k != field} | {"question_id": "q2"}]
    spec = write_task(tmp_path, "amu_bad", "eval_anything_amu", rows)
    with pytest.raises(TaskSpecError) as e:
        load(spec)
    msg = str(e.value)
    assert str(spec) in msg and "row 1" in msg and repr(field) in msg


def test_amu_annotation_without_answer_is_refused(tmp_path: Path) -> None:
    row = {**AMU_ROW, "annotations": [{"keywords": {"visual": [], "auditory": []}}]}
    with pytest.raises(TaskSpecError, match=r"annotations\[0\]"):
        load(write_task(tmp_path, "amu_ann", "eval_anything_amu", [row]))


def test_instruction_following_text_and_image_rows(tmp_path: Path) -> None:
    rows = [{"prompt_id": "p1", "prompt": "Draw a red circle.", "mini_spec": {"background": "w"}}]
    (s,) = load(write_task(tmp_path, "if_img", "eval_anything_if", rows, {"modality": "image"}))
    assert s.id == "p1" and s.text == "Draw a red circle." and s.cluster is None
    assert s.metadata["modality"] == "image" and s.metadata["mini_spec"] == {"background": "w"}


def test_instruction_following_audio_rows_are_clustered_by_prompt(tmp_path: Path) -> None:
    rows = [
        {"prompt_id": "p1", "prompt": "Two beeps.", "question_id": "q1",
         "question": "How many beeps?", "choice": "A. one\nB. two", "answer": "B"},
        {"prompt_id": "p1", "prompt": "Two beeps.", "question_id": "q2",
         "question": "Pitch?", "choice": ["low", "high"], "answer": "(a)"},
    ]
    a, b = load(write_task(tmp_path, "if_aud", "eval_anything_if", rows, {"modality": "audio"}))
    assert (a.id, b.id) == ("p1/q1", "p1/q2")
    assert a.cluster == b.cluster == "p1"
    assert a.metadata["answer"] == "B" and b.metadata["answer"] == "A"
    assert b.metadata["choice"] == ["low", "high"]


def test_instruction_following_audio_row_needs_its_question(tmp_path: Path) -> None:
    rows = [{"prompt_id": "p1", "prompt": "Two beeps.", "question_id": "q1", "choice": "A. x",
             "answer": "A"}]
    spec = write_task(tmp_path, "if_q", "eval_anything_if", rows, {"modality": "audio"})
    with pytest.raises(TaskSpecError, match=r"row 0.*'question'"):
        load(spec)


def test_instruction_following_answer_must_be_a_letter(tmp_path: Path) -> None:
    rows = [{"prompt_id": "p", "prompt": "x", "question_id": "q", "question": "?",
             "choice": "A. x", "answer": "two"}]
    with pytest.raises(TaskSpecError, match="option letter"):
        load(write_task(tmp_path, "if_ans", "eval_anything_if", rows, {"modality": "video"}))


def test_selection_rows_keep_shares_and_normalize_counts(tmp_path: Path) -> None:
    rows = [
        {"instruction_uid": "u1", "instruction": "Draw a cat.",
         "selection": {"t": 0.1, "i": 0.6, "a": 0.0, "ti": 0.3, "ta": 0.0, "ia": 0.0, "tia": 0.0}},
        {"instruction_uid": "u2", "instruction": "Sing.", "selection": {"a": 3, "ta": 1}},
    ]
    s1, s2 = load(write_task(tmp_path, "sel", "eval_anything_selection", rows))
    assert s1.id == "u1" and s1.text == "Draw a cat."
    assert s1.metadata["selection"]["i"] == pytest.approx(0.6)
    assert "selection_normalized" not in s1.metadata
    assert s2.metadata["selection"]["a"] == pytest.approx(0.75)
    assert s2.metadata["selection"]["tia"] == 0.0 and s2.metadata["selection_normalized"]


@pytest.mark.parametrize(
    ("selection", "match"),
    [({"t": 1.0, "x": 0.0}, "unknown combinations"), ({"t": -1, "i": 2}, ">= 0"),
     ({"t": 0}, "no votes"), ("t", "object of vote shares")],
)
def test_selection_bad_shares_are_refused(tmp_path: Path, selection: object, match: str) -> None:
    rows = [{"instruction_uid": "u", "instruction": "x", "selection": selection}]
    with pytest.raises(TaskSpecError, match=match):
        load(write_task(tmp_path, "sel_bad", "eval_anything_selection", rows))


def test_selection_row_missing_instruction(tmp_path: Path) -> None:
    spec = write_task(tmp_path, "sel_m", "eval_anything_selection",
                      [{"instruction_uid": "u", "selection": {"t": 1}}])
    with pytest.raises(TaskSpecError, match=r"row 0.*'instruction'"):
        load(spec)
