"""TIFA-style scoring of generated audio and video (as the paper scores AMG audio/video IF).

An understanding model answers a multiple-choice question about the generated media; the item
scores 10 when its answer is the right option and 0 otherwise. An answer that cannot be read as
an option is unscored (the judge failed, not the media); a judge that measured something none of
the options describe answers "none of them", which is wrong (0).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval_anything.judges.base import JudgeItem, Judgment

CORRECT, WRONG = 10.0, 0.0
NO_OPTION = ""  # the judge's answer when no option fits what it perceived

_INLINE = re.compile(r"(?:^|\s|\()\(?([A-H])[\).:]\s*")


def split_choices(choice: Any) -> list[str]:
    """Option texts from a list or from one string ("A. x\\nB. y", "(A) x (B) y")."""
    if isinstance(choice, list):
        return [re.sub(r"^\s*\(?[A-H][\).:]\s*", "", str(c)).strip() for c in choice]
    text = str(choice or "").strip()
    marks = list(_INLINE.finditer(text))
    letters = [m.group(1) for m in marks]
    if not marks or letters != [chr(65 + i) for i in range(len(letters))]:
        return [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append(text[m.end() : stop].strip().rstrip(";,").strip())
    return out


def score_choice(judgment: Judgment, item: JudgeItem) -> Judgment:
    """The TIFA score of a judge's verdict on ``item``: its chosen option (``choice``) against
    the item's ``answer``; a judgment without a choice, or already scored, stays as it is.
    Judges that pick an option call it, and so does the scorer, so a judge from a plugin that
    gives only its choice is scored the same way."""
    if judgment.choice is None or judgment.value is not None:
        return judgment
    judgment.value = tifa_score(judgment.choice, tifa_answer(item))
    return judgment


def tifa_answer(item: JudgeItem) -> str:
    """The item's correct option letter."""
    return str(item.metadata.get("answer", "")).strip().upper()


def tifa_score(predicted: str | None, answer: str) -> float | None:
    """10 when ``predicted`` is ``answer`` (letters, case-insensitive); 0 for a wrong option or
    for :data:`NO_OPTION`; None (unscored) when there is no prediction at all."""
    if predicted is None:
        return None
    if not answer or not answer.strip():
        raise ValueError("a TIFA question needs its correct option letter ('answer')")
    return CORRECT if predicted.strip().upper() == answer.strip().upper() else WRONG
