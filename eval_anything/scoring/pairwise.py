"""Pairwise preference against a reference answer, judged in both orders.

The ``judge`` role compares the model's answer with the sample's target (or first reference)
twice, once in each position; the item scores 1 when both orders prefer the model, 0 when both
prefer the reference, 0.5 for a tie or when the orders disagree (position bias cancels out).
Score name ``win_rate``.
"""

from __future__ import annotations

from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.judges.base import JudgeItem
from eval_anything.registry import register
from eval_anything.scoring.base import ScoreContext, Scorer
from eval_anything.scoring.judged import answer_text, error_record, run_judge


@register("scorer", "pairwise_vs_reference")
class PairwiseVsReferenceScorer(Scorer):
    roles = ("judge",)

    def __init__(self, **args: Any) -> None:
        args.setdefault("score_name", "win_rate")
        super().__init__(**args)

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = [{} for _ in samples]
        idx, items = [], []
        for i, (s, o) in enumerate(zip(samples, outputs, strict=True)):
            reference = s.target if s.target is not None else next(iter(s.references), None)
            if o.error:
                out[i][self.name] = error_record(o)
            elif reference is None:
                raise ValueError(f"sample {s.id!r} has no target or reference to compare with")
            else:
                idx.append(i)
                items.append(JudgeItem(kind="pairwise", prompt=s.text, response=answer_text(o),
                                       metadata={"response_b": reference}))
        judge, judgments = run_judge(ctx, "judge", ("pairwise",), items)
        for i, j in zip(idx, judgments, strict=True):
            out[i][self.name] = j.to_record(judge.identity())
        return out
