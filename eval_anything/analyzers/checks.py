"""Turn measurements into judgments: the image rubric against a scene spec, and answers to
multiple-choice questions about a sound or a clip (a rule-based "understanding model" for the
mini suite's TIFA questions: beep count, pitch, motion direction, color, shape, object count).
"""

from __future__ import annotations

import re
from typing import Any

from eval_anything.analyzers.audio import AudioFacts
from eval_anything.analyzers.image import ImageFacts
from eval_anything.analyzers.video import VideoFacts
from eval_anything.analyzers.vocabulary import NUMBER_NAMES, SceneSpec, tokens
from eval_anything.scoring.rating import rubric_from_fractions
from eval_anything.scoring.tifa import NO_OPTION


def image_rubric(spec: SceneSpec, facts: ImageFacts) -> dict[str, float]:
    """Rubric parts for a picture measured against what it should show.

    key elements: share of required (color, shape) groups present at all; details: share of
    groups present in exactly the required count; scene: background color; extras: no object
    of an unrequested (color, shape).
    """
    groups = [(o.color, o.shape, o.count) for o in spec.objects]
    if groups:
        present = sum(facts.count(c, s) > 0 for c, s, _ in groups) / len(groups)
        exact = sum(facts.count(c, s) == n for c, s, n in groups) / len(groups)
    else:
        present = exact = 1.0
    wanted = {(c, s) for c, s, _ in groups}
    extras_ok = all((o.color, o.shape) in wanted for o in facts.objects)
    return rubric_from_fractions(present, exact, facts.background == spec.background, extras_ok)


def _number_in(text: str) -> int | None:
    words = {v: k for k, v in NUMBER_NAMES.items()}
    for t in tokens(text):
        if t.isdigit():
            return int(t)
        if t in words:
            return words[t]
        if t in ("no", "none", "zero"):
            return 0
    return None


def _option_for(value: Any, options: list[str]) -> str:
    """Letter of the option describing ``value`` (a count or a word), or NO_OPTION."""
    for i, opt in enumerate(options):
        if isinstance(value, int) and not isinstance(value, bool):
            if _number_in(opt) == value:
                return chr(65 + i)
        elif value == "still":
            if re.search(r"\b(still|not move|does not|doesn't|stationary|stays)\b", opt.lower()):
                return chr(65 + i)
        elif value is not None and value in tokens(opt):
            return chr(65 + i)
    return NO_OPTION


_MOTION_WORDS = ("direction", "which way", "where does", "move", "moving", "travel")


def measured_answer(question: str, facts: Any) -> tuple[str, Any] | None:
    """(what was measured, its value) for a question the analyzer understands, else None."""
    q = question.lower()
    if isinstance(facts, AudioFacts):
        if "how many" in q:
            return "beeps", facts.beeps
        if "pitch" in q or "high or low" in q or "low or high" in q or "how high" in q:
            return "pitch", facts.pitch
        return None
    if isinstance(facts, VideoFacts):
        routes = (
            (("background",), "background", facts.background),
            (("direction", "which way", "where does"), "motion", facts.motion),
            (("colo",), "color", facts.color),
            (("what shape", "which shape", "kind of shape"), "shape", facts.shape),
            (("how many",), "objects", facts.objects),
            (_MOTION_WORDS, "motion", facts.motion),
        )
        for words, what, value in routes:
            if any(w in q for w in words):
                return what, value
        return None
    if isinstance(facts, ImageFacts):
        if "background" in q:
            return "background", facts.background
        if "how many" in q:
            return "objects", len(facts.objects)
        return None
    return None


def answer_question(
    question: str, options: list[str], facts: Any
) -> tuple[str | None, dict[str, Any]]:
    """The option letter the measurements support (NO_OPTION when none does); None when the
    question is outside what the analyzer can measure."""
    got = measured_answer(question, facts)
    if got is None:
        return None, {"reason": "the analyzer cannot answer this kind of question"}
    what, value = got
    return _option_for(value, options), {"measured": what, "value": value}
