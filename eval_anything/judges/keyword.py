"""Keyword judge: how many of the annotators' keywords an answer mentions.

The offline default for AMU. It needs no model and is fully deterministic, but it is *not* the
paper's judge: it rewards naming what is in the picture and the sound, and cannot tell a correct
answer from a keyword list. Results name it (``keyword:v1``), so nobody mistakes it for an LLM.

Score of an answer: for each reference, the fraction of its visual and auditory keywords found
in the answer; the best-matching reference counts (the answer agrees with one annotator); mapped
to the 1-10 rating scale as ``1 + 9 * coverage``. A reference without keywords is skipped; with
no keywords anywhere the item is unscored.
"""

from __future__ import annotations

import re
from typing import Any

from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.registry import register

_WORD = re.compile(r"[a-z0-9]+")
_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "once": "1", "twice": "2",
}


def _stem(word: str) -> str:
    """A light stemmer: number words to digits, plurals and -ing/-ed endings dropped."""
    word = _NUMBERS.get(word, word)
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("es") and (word[-3] in "sxz" or word[-4:-2] in ("ch", "sh")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


def keyword_found(keyword: str, answer_tokens: set[str]) -> bool:
    """A keyword (possibly several words) is found when all its words occur in the answer."""
    words = tokens(keyword)
    return bool(words) and all(w in answer_tokens for w in words)


def keyword_coverage(answer: str, references: list[dict[str, Any]]) -> tuple[float | None, int]:
    """Best coverage over references and the index of that reference (None: no keywords)."""
    have = set(tokens(answer))
    best: tuple[float | None, int] = (None, -1)
    for i, ref in enumerate(references):
        kws = [*(ref.get("visual_keywords") or []), *(ref.get("auditory_keywords") or [])]
        if not kws:
            continue
        cov = sum(keyword_found(k, have) for k in kws) / len(kws)
        if best[0] is None or cov > best[0]:
            best = (cov, i)
    return best


@register("judge", "keyword")
class KeywordJudge(Judge):
    kinds = ("amu",)

    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        if arg:
            raise ValueError(f"--judge ROLE=keyword takes no argument (got {arg!r})")

    def identity(self) -> str:
        return "keyword:v1"

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        out = []
        for it in items:
            if it.kind != "amu":
                out.append(unsupported(self, it))
                continue
            cov, best = keyword_coverage(it.response, it.references)
            if cov is None:
                out.append(Judgment(None, reason="no reference keywords to look for"))
                continue
            details = {"coverage": round(cov, 4), "best_reference": best}
            out.append(Judgment(1.0 + 9.0 * cov, details=details))
        return out
