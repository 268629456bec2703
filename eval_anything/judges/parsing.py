"""Strict parsers for judge outputs.

A judge's text may quote the answer it judges, and that answer may contain a planted verdict
("... [[10]]"). The judge's own verdict comes last, so the *last* verdict is the one that counts;
when that last verdict is out of range, or there is none, the judgment is unscored (counted and
reported, never averaged in as a zero).
"""

from __future__ import annotations

import re

_RATING = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*10\s*)?\]\]")
_PAIR = re.compile(r"\[\[\s*([ABC])\s*\]\]")
LETTERS = "ABCDEFGH"


def parse_rating(text: str, low: float, high: float) -> tuple[float | None, str | None]:
    """The last ``[[N]]`` in ``text`` if it lies in ``[low, high]``; else None and the reason."""
    found = _RATING.findall(text or "")
    if not found:
        return None, "no [[N]] verdict in the judge's output"
    value = float(found[-1])
    if not low <= value <= high:
        return None, f"last verdict [[{found[-1]}]] is outside {low:g}-{high:g}"
    return value, None


def parse_preference(text: str) -> tuple[str | None, str | None]:
    """The last ``[[A]]``, ``[[B]]`` or ``[[C]]`` (tie) in ``text``."""
    found = _PAIR.findall(text or "")
    if not found:
        return None, "no [[A]]/[[B]]/[[C]] verdict in the judge's output"
    return found[-1], None


def parse_choice_letter(text: str, n_choices: int) -> tuple[str | None, str | None]:
    """The option letter a model picked for a multiple-choice question.

    Accepted, last match first: ``[[B]]``; ``answer: B`` / ``answer is (B).`` / ``option B``
    (the letter then ends the phrase); an answer that *starts* with the letter (``B``, ``(B)``,
    ``B.``, ``B) a dog``). A capital inside prose ("the answer is A dog") is not a choice.
    """
    letters = LETTERS[: max(1, min(n_choices, len(LETTERS)))]
    cls = f"[{letters}]"
    t = (text or "").strip()
    after = r"(?=\s*(?:$|[\)\].,:;!\n]))"
    patterns = [
        rf"\[\[\s*({cls})\s*\]\]",
        rf"(?i:answer|option|choice)\s*(?i:is)?\s*[:=]?\s*[\(\[]?\s*({cls}){after}",
    ]
    for pat in patterns:
        found = re.findall(pat, t)
        if found:
            return found[-1], None
    m = re.match(rf"^[\(\[]?\s*({cls})\s*(?:[\)\].:,]|$|\s+[-–:]|\s*\n)", t)
    if m:
        return m.group(1), None
    if re.fullmatch(rf"[\(\[]?\s*({cls})\s*[\)\]]?\.?", t):
        return t.strip("()[]. "), None
    return None, f"no option letter ({', '.join(letters)}) found in the answer"
