"""Modality selection: the tolerant section parser and the vote-share score, by hand."""

from __future__ import annotations

import pytest

from eval_anything.core.content import AudioPart, ImagePart, TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.sample import Sample
from eval_anything.formats.sections import is_none_answer, parse_sections, response_text
from eval_anything.scoring.base import MetricInput, ScoreContext
from eval_anything.scoring.selection import (
    ModalitySelectionScorer,
    chosen_combination,
    selection_score,
    vote_share_metric,
)

SHARES = {"t": 0.10, "i": 0.05, "a": 0.05, "ti": 0.30, "ta": 0.20, "ia": 0.06, "tia": 0.24}


def answer(resp: str, image: str, audio: str) -> str:
    return f"[[response]]: {resp}\n[[image_instruction]]: {image}\n[[audio_instruction]]: {audio}"


def out(text: str, *media: object) -> ModelOutput:
    return ModelOutput(parts=[TextPart(text=text), *media])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("text", "combo", "score"),
    [
        (answer("Paris.", "None", "None"), "t", 0.10),
        (answer("None", "a red apple", "None"), "i", 0.05),
        (answer("None", "None", "a bell ringing"), "a", 0.05),
        (answer("Here is a map.", "a map of France", "None"), "ti", 0.30),
        (answer("Listen.", "None", "a cat meowing"), "ta", 0.20),
        (answer("None", "a beach", "waves crashing"), "ia", 0.06),
        (answer("All three.", "a beach", "waves crashing"), "tia", 0.24 / 3),
    ],
)
def test_all_seven_combinations(text: str, combo: str, score: float) -> None:
    got, _ = chosen_combination(out(text))
    assert got == combo
    assert selection_score(got, SHARES) == pytest.approx(score)


def test_tia_counts_one_third_of_its_share() -> None:
    assert selection_score("tia", {"tia": 0.9}) == pytest.approx(0.3)
    assert selection_score("ti", {"ti": 0.9}) == pytest.approx(0.9)


def test_none_in_every_section_chooses_nothing_and_scores_zero() -> None:
    combo, _ = chosen_combination(out(answer("None", "None.", "N/A")))
    assert combo == ""
    assert selection_score(combo, SHARES) == 0.0


def test_empty_output_chooses_nothing() -> None:
    assert chosen_combination(out(""))[0] == ""


def test_garbled_answer_without_sections_counts_as_text_only() -> None:
    combo, details = chosen_combination(out("Sure! The answer is 42, no pictures needed."))
    assert combo == "t" and details["sectioned"] is False


@pytest.mark.parametrize(
    "text",
    [
        "[[response]]: hi [[image_instruction]]: a red circle [[audio_instruction]]: None",
        "**Response:** hi\n**Image instruction**: a red circle\n**Audio instruction**: none",
        "[response] hi\n[image_instruction] a red circle\n[audio_instruction] <audio_instruction>",
        "Response: hi\nImage Instruction: a red circle\nAudio instruction: None - not needed",
        "[[ Response ]] : hi\n[[IMAGE INSTRUCTION]]:a red circle",
        # the template echoed first: the last occurrence of each section wins
        "[output_format]\n[[response]]: <response>\n[[image_instruction]]: <image_instruction>\n"
        "[[audio_instruction]]: <audio_instruction>\n[/output_format]\n"
        "[[response]]: hi\n[[image_instruction]]: a red circle\n[[audio_instruction]]: None",
    ],
)
def test_messy_section_formats_parse_the_same(text: str) -> None:
    sec = parse_sections(text)
    assert sec.found
    assert sec.get("response") == "hi"
    assert sec.get("image") == "a red circle"
    assert sec.get("audio") is None
    assert chosen_combination(out(text))[0] == "ti"


def test_none_answer_forms() -> None:
    for text in ("None", "none.", " N/A ", "<image_instruction>", "None - no image needed", ""):
        assert is_none_answer(text), text
    for text in ("a red circle", "Nonetheless a tree", "nothing but a dot in the middle"):
        assert not is_none_answer(text), text


def test_response_text_strips_sections() -> None:
    assert response_text(answer("The answer.", "x", "None")) == "The answer."
    assert response_text("plain text ") == "plain text"


def test_media_parts_count_as_chosen() -> None:
    img, aud = ImagePart(data=b"png"), AudioPart(data=b"wav")
    assert chosen_combination(out("Here you go.", img))[0] == "ti"
    assert chosen_combination(out("", img, aud))[0] == "ia"


def test_video_section_is_noted_but_not_a_combination() -> None:
    text = answer("x", "None", "None") + "\n[[video_instruction]]: a clip"
    combo, details = chosen_combination(out(text))
    assert combo == "t" and details["video_ignored"] is True


def test_scorer_reads_vote_shares_and_leaves_model_errors_unscored() -> None:
    s = Sample(id="1", input=[TextPart(text="q")], metadata={"selection": SHARES})
    outs = [out(answer("a", "an image", "None")), ModelOutput(error="timeout")]
    recs = ModalitySelectionScorer().score([s, s], outs, ScoreContext())
    assert recs[0]["selection"].value == pytest.approx(0.30)
    assert recs[0]["selection"].details["chosen"] == "ti"
    assert recs[1]["selection"].value is None
    assert "timeout" in (recs[1]["selection"].unscored_reason or "")


def test_scorer_without_vote_shares_names_the_loader() -> None:
    s = Sample(id="1", input=[TextPart(text="q")])
    with pytest.raises(ValueError, match="eval_anything_selection"):
        ModalitySelectionScorer().score([s], [out("x")], ScoreContext())


def test_vote_share_metric_is_the_mean_share_per_combination() -> None:
    metas = [{"selection": SHARES}, {"selection": {**SHARES, "ti": 0.5, "t": 0.0}}]
    got = vote_share_metric(MetricInput("selection", [0.1, 0.2], [None, None], metas))
    assert got["alpha/ti"].value == pytest.approx(0.40)
    assert got["alpha/t"].value == pytest.approx(0.05)
    assert set(got) == {f"alpha/{c}" for c in ("t", "i", "a", "ti", "ta", "ia", "tia")}
