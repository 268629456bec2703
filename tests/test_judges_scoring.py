"""Rubric and TIFA formulas by hand, and the media judges (pixel analyzer, LLM over media)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.analyzers.checks import answer_question, image_rubric
from eval_anything.analyzers.image import ImageFacts, analyze_image
from eval_anything.analyzers.vocabulary import ObjectSpec, SceneSpec
from eval_anything.judges.analyzer import AnalyzerJudge
from eval_anything.judges.base import JudgeItem
from eval_anything.judges.llm import LLMJudge
from eval_anything.models.procedural import render
from eval_anything.models.scripted import ScriptedModel
from eval_anything.scoring.rating import rubric_from_fractions, rubric_total
from eval_anything.scoring.tifa import NO_OPTION, split_choices, tifa_score


def test_rubric_total_adds_the_four_parts_within_their_maxima() -> None:
    assert rubric_total(4, 3, 2, 1) == 10.0
    assert rubric_total(2, 1.5, 0, 1) == 4.5
    with pytest.raises(ValueError, match="key_elements"):
        rubric_total(5, 0, 0, 0)
    with pytest.raises(ValueError, match="scene"):
        rubric_total(0, 0, 3, 0)


def test_rubric_from_fractions_by_hand() -> None:
    parts = rubric_from_fractions(present=0.5, details_match=1 / 3, scene_match=True,
                                  extras_ok=False)
    assert parts == {"key_elements": 2.0, "details": 1.0, "scene": 2.0, "extras": 0.0,
                     "total": 5.0}


def test_tifa_scores_ten_or_zero_and_unscored_without_answer() -> None:
    assert tifa_score("B", "B") == 10.0
    assert tifa_score("b", "B") == 10.0
    assert tifa_score("C", "B") == 0.0
    assert tifa_score(NO_OPTION, "B") == 0.0
    assert tifa_score(None, "B") is None
    with pytest.raises(ValueError, match="answer"):
        tifa_score("A", "")


def test_split_choices_forms() -> None:
    assert split_choices("A. one\nB. two") == ["one", "two"]
    assert split_choices("(A) left (B) right") == ["left", "right"]
    assert split_choices(["A. red", "blue"]) == ["red", "blue"]


def test_image_rubric_against_measured_facts_by_hand() -> None:
    spec = SceneSpec("blue", [ObjectSpec("circle", "red", 3), ObjectSpec("square", "green", 1)])
    # everything right
    facts = analyze_image(render("image", "three red circles and a green square on a blue "
                                          "background").load())
    assert image_rubric(spec, facts)["total"] == 10.0
    # 2 red circles (count wrong), no square, white background, one extra yellow triangle:
    # present 1/2 -> 2, exact 0/2 -> 0, scene 0, extras 0 => 2
    facts = analyze_image(render("image", "two red circles and a yellow triangle").load())
    parts = image_rubric(spec, facts)
    assert parts == {"key_elements": 2.0, "details": 0.0, "scene": 0.0, "extras": 0.0,
                     "total": 2.0}


def image_item(tmp_path: Path, instruction: str, spec: dict) -> JudgeItem:
    part = render("image", instruction)
    path = tmp_path / f"{abs(hash(instruction))}.png"
    path.write_bytes(part.data or b"")
    media = part.model_copy(update={"data": None, "path": str(path)})
    return JudgeItem(kind="image_if", prompt="p", media=[media], metadata={"mini_spec": spec})


def test_analyzer_judge_scores_images_against_mini_spec(tmp_path: Path) -> None:
    spec = {"background": "black", "objects": [{"shape": "triangle", "color": "yellow",
                                                "count": 2}]}
    (j,) = AnalyzerJudge().judge([image_item(tmp_path, "two yellow triangles on a black "
                                                       "background", spec)])
    assert j.value == 10.0 and "yellow triangle" in (j.raw or "")
    (j,) = AnalyzerJudge().judge([image_item(tmp_path, "two yellow triangles", spec)])
    assert j.value == 8.0 and j.details["scene"] == 0.0
    item = image_item(tmp_path, "x", spec)
    item.metadata = {}
    (j,) = AnalyzerJudge().judge([item])
    assert j.value is None and "mini_spec" in (j.reason or "")


def media_item(tmp_path: Path, modality: str, instruction: str, question: str,
               choices: str, answer: str) -> JudgeItem:
    part = render(modality, instruction)
    ext = "wav" if modality == "audio" else "gif"
    path = tmp_path / f"{abs(hash((instruction, question)))}.{ext}"
    path.write_bytes(part.data or b"")
    media = part.model_copy(update={"data": None, "path": str(path)})
    return JudgeItem(kind="tifa", prompt="p", media=[media],
                     metadata={"question": question, "choices": choices, "answer": answer})


def test_analyzer_answers_tifa_questions_by_measuring(tmp_path: Path) -> None:
    counts = "A. one\nB. two\nC. three\nD. four"
    pitches = "A. low\nB. medium\nC. high\nD. there is no tone"
    judge = AnalyzerJudge()
    got = judge.judge([
        media_item(tmp_path, "audio", "three high beeps", "How many beeps do you hear?",
                   counts, "C"),
        media_item(tmp_path, "audio", "three high beeps", "Is the pitch low, medium or high?",
                   pitches, "A"),
        media_item(tmp_path, "audio", "six beeps", "How many beeps do you hear?", counts, "D"),
        media_item(tmp_path, "video", "a blue square moving up", "Which way does it move?",
                   "A. left\nB. right\nC. up\nD. down", "C"),
        media_item(tmp_path, "video", "a blue square moving up", "What color is the shape?",
                   "A. red\nB. blue", "B"),
        media_item(tmp_path, "video", "a blue square", "Why is it here?", "A. x", "A"),
    ])
    assert [j.value for j in got] == [10.0, 0.0, 0.0, 10.0, 10.0, None]
    assert got[1].details == {"measured": "pitch", "value": "high", "predicted": "C"}
    assert got[2].details["predicted"] == NO_OPTION  # six beeps: no option fits, wrong
    assert "cannot answer" in (got[5].reason or "")


def test_answer_question_on_image_facts() -> None:
    facts = ImageFacts(background="red")
    assert answer_question("What is the background color?", ["blue", "red"], facts)[0] == "B"


def test_llm_judge_rates_images_and_answers_tifa_with_media_attached(tmp_path: Path) -> None:
    table = {"[Instruction the image": "Key elements fine. Rating: [[7]]",
             "Question: How many beeps": "[[B]]"}
    path = tmp_path / "j.json"
    path.write_text(json.dumps(table), "utf-8")
    judge = LLMJudge(ScriptedModel(script=str(path)), "scripted")
    img = image_item(tmp_path, "a red circle", {})
    aud = media_item(tmp_path, "audio", "two beeps", "How many beeps?", "A. one\nB. two", "B")
    j_img, j_aud = judge.judge([img, aud])
    assert j_img.value == 7.0 and j_aud.value == 10.0
    req = judge.request(img)
    assert [p.type for p in req.messages[1].content] == ["image", "text"]
