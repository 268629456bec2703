"""The LLM judge's ``likelihood`` mode: score every possible verdict instead of generating one.

After the judging prompt (rendered with the chat template), the judge model's log-likelihood of
each verdict string is computed in one packed forward pass. Ratings become the expected value of
the scale under the verdicts' normalized probabilities (as G-Eval weighs scores); options and
pairwise preferences the most likely verdict. ``raw_judgment`` holds the distribution.
"""

from __future__ import annotations

import json
import math
from typing import Any

from eval_anything.core.requests import LoglikelihoodRequest
from eval_anything.judges.base import JudgeItem, Judgment
from eval_anything.run.cache import make_key
from eval_anything.scoring.tifa import score_choice, split_choices, tifa_answer

RATING_RANGES = {"amu": (1, 10), "text_if": (1, 10), "image_if": (0, 10), "synergy": (1, 10)}


def verdicts(item: JudgeItem) -> list[str]:
    """The verdict strings a judge may give for ``item``, in scale order."""
    if item.kind in RATING_RANGES:
        low, high = RATING_RANGES[item.kind]
        return [f"Rating: [[{n}]]" for n in range(low, high + 1)]
    if item.kind == "tifa":
        n = len(split_choices(item.metadata.get("choices"))) or 4
        return [f"[[{chr(65 + i)}]]" for i in range(n)]
    if item.kind == "pairwise":
        return ["[[A]]", "[[B]]", "[[C]]"]
    raise ValueError(f"unknown judge item kind {item.kind!r}")


def normalized(logprobs: list[float]) -> list[float]:
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def to_judgment(item: JudgeItem, options: list[str], logprobs: list[float]) -> Judgment:
    probs = normalized(logprobs)
    best = max(range(len(probs)), key=lambda i: probs[i])
    raw = json.dumps({o: round(p, 4) for o, p in zip(options, probs, strict=True)})
    details: dict[str, Any] = {"mode": "likelihood", "most_likely": options[best]}
    if item.kind in RATING_RANGES:
        low, high = RATING_RANGES[item.kind]
        expected = sum((low + i) * p for i, p in enumerate(probs))
        return Judgment(expected, raw=raw, out_of=float(high),
                        details={**details, "expected_rating": round(expected, 4)})
    letter = options[best].strip("[]")
    if item.kind == "tifa":
        verdict = Judgment(None, raw=raw, choice=letter,
                           details={**details, "predicted": letter, "answer": tifa_answer(item)})
        return score_choice(verdict, item)
    value = {"A": 1.0, "B": 0.0, "C": 0.5}[letter]
    return Judgment(value, raw=raw, details={**details, "verdict": letter})


class LikelihoodVerdicts:
    """Runs the likelihood mode for an :class:`~eval_anything.judges.llm.LLMJudge`."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def run(self, items: list[JudgeItem], swap: bool) -> list[Judgment]:
        reqs, options = [], []
        for it in items:
            gen_req = self.owner.request(it, 0, swap)
            opts = verdicts(it)
            options.append(opts)
            reqs.append(LoglikelihoodRequest(
                context=list(gen_req.messages), continuations=opts, apply_chat_template=True
            ))
        logprobs = self._loglikelihoods(reqs)
        out = []
        for it, req, opts, lps in zip(items, reqs, options, logprobs, strict=True):
            j = to_judgment(it, opts, lps)
            j.prompt_hash = req.content_hash()
            out.append(j)
        return out

    def _loglikelihoods(self, reqs: list[LoglikelihoodRequest]) -> list[list[float]]:
        adapter, cache = self.owner.adapter, self.owner.cache
        ident = adapter.identity_hash()
        keys = [make_key("judgment-likelihood", ident, r.content_hash()) for r in reqs]
        got: list[list[float] | None] = []
        for k in keys:
            hit = cache.get(k) if cache is not None else None
            got.append(None if hit is None else json.loads(hit))
        miss = [i for i, g in enumerate(got) if g is None]
        if miss:
            self.owner.calls += len(miss)
            outs = adapter.loglikelihood([reqs[i] for i in miss])
            rows = []
            for i, o in zip(miss, outs, strict=True):
                got[i] = list(o.logprobs)
                rows.append((keys[i], "judgment", json.dumps(o.logprobs)))
            if cache is not None:
                cache.put_many(rows)
        return [g for g in got if g is not None]
