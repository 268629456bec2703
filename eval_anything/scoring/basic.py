"""Reference-based scorers that need no judge: exact match, inclusion, multiple-choice accuracy."""

from __future__ import annotations

import re
import string
from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.registry import register
from eval_anything.scoring.base import ScoreContext, Scorer


def normalize_answer(text: str, lower: bool = True, strip_punct: bool = True) -> str:
    text = text.strip()
    if lower:
        text = text.lower()
    if strip_punct:
        text = text.translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


def _extract(text: str, pattern: str | None) -> str | None:
    if pattern is None:
        return text
    matches = re.findall(pattern, text)
    if not matches:
        return None
    last = matches[-1]
    return last if isinstance(last, str) else last[0]


@register("scorer", "exact_match")
class ExactMatchScorer(Scorer):
    """1 if the (normalized) output equals the target or any reference, else 0.

    args: ``regex`` (extract the *last* match before comparing; no match scores 0, the model
    answered without an answer), ``lower``, ``strip_punct``.
    """

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        lower = self.args.get("lower", True)
        punct = self.args.get("strip_punct", True)
        out = []
        for s, o in zip(samples, outputs, strict=True):
            if o.error:
                out.append(
                    {self.name: ScoreRecord(value=None, unscored_reason=f"model error: {o.error}")}
                )
                continue
            got = _extract(o.text, self.args.get("regex"))
            gold = [t for t in [s.target, *s.references] if t is not None]
            ok = got is not None and any(
                normalize_answer(got, lower, punct) == normalize_answer(g, lower, punct)
                for g in gold
            )
            out.append({self.name: ScoreRecord(value=float(ok), details={"extracted": got})})
        return out


@register("scorer", "includes")
class IncludesScorer(Scorer):
    """1 if the normalized target appears in the normalized output."""

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out = []
        for s, o in zip(samples, outputs, strict=True):
            gold = [t for t in [s.target, *s.references] if t]
            text = normalize_answer(o.text)
            ok = any(normalize_answer(g) in text for g in gold)
            out.append({self.name: ScoreRecord(value=float(ok))})
        return out


@register("scorer", "choice_accuracy")
class ChoiceAccuracyScorer(Scorer):
    """Multiple choice by log-likelihood: ``acc`` (argmax of the sum of log-probs) and
    ``acc_norm`` (argmax of log-prob per character of the choice), as lm-eval defines them."""

    def score_names(self) -> list[str]:
        return ["acc", "acc_norm"]

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = []
        for s, o in zip(samples, outputs, strict=True):
            lp = o.choice_logprobs
            if lp is None or s.choices is None or s.target_index is None:
                reason = "no choice log-likelihoods (is this a multiple_choice task?)"
                out.append(
                    {n: ScoreRecord(value=None, unscored_reason=reason) for n in self.score_names()}
                )
                continue
            norm = [v / max(len(c), 1) for v, c in zip(lp, s.choices, strict=True)]
            acc = float(_argmax(lp) == s.target_index)
            acc_norm = float(_argmax(norm) == s.target_index)
            details: dict[str, Any] = {"logprobs": lp, "pred": _argmax(lp)}
            out.append(
                {
                    "acc": ScoreRecord(value=acc, details=details),
                    "acc_norm": ScoreRecord(value=acc_norm),
                }
            )
        return out


def _argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=lambda i: xs[i])
