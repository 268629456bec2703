"""Scores for contrastive image-text models: zero-shot classification and image-text retrieval.

Both are ``multiple_choice`` tasks, answered by candidate scores (``choice_logprobs``): for
classification the candidates are class prompts; for retrieval each sample is one image whose
candidates are the whole caption gallery (the same list, in the same order, for every sample)
and ``metadata.positives`` lists the indices of its own captions.

Image-to-text recall@k is a per-image score. Text-to-image recall@k ranks, for each caption,
every image of the task by its score for that caption, so it is a metric over all records
(``retrieval_recall``): it needs scores that compare across images, which is why adapters give
raw similarities (``logit_scale * cos``) rather than per-image normalized log-probabilities.
Being computed from the records, it is the same for a merged sharded run as for a whole one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.registry import register
from eval_anything.scoring.base import MetricInput, ScoreContext, Scorer
from eval_anything.stats.intervals import MetricValue, mean_with_ci

NO_SCORES = "no candidate scores (run this task as multiple_choice with a scoring adapter)"


def rank_of_best_positive(scores: list[float], positives: list[int]) -> int:
    """0-based rank of the highest-scoring positive among all candidates (ties count against
    it: a positive tied with a negative is not ranked above it)."""
    best = max(scores[p] for p in positives)
    return sum(1 for j, s in enumerate(scores) if s >= best and j not in positives)


def positives_of(sample: Sample) -> list[int]:
    pos = sample.metadata.get("positives")
    if pos:
        return [int(p) for p in pos]
    if sample.target_index is None:
        raise ValueError(f"sample {sample.id!r}: needs 'target_index' or 'metadata.positives'")
    return [sample.target_index]


def _unscored(names: list[str], reason: str) -> dict[str, ScoreRecord]:
    return {n: ScoreRecord(value=None, unscored_reason=reason) for n in names}


@register("scorer", "zero_shot")
class ZeroShotScorer(Scorer):
    """``top1`` and ``top<k>`` accuracy (args ``topk``, default [5]) of classification by the
    highest-scoring class prompt."""

    def score_names(self) -> list[str]:
        return ["top1", *(f"top{k}" for k in self.args.get("topk", [5]))]

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = []
        for s, o in zip(samples, outputs, strict=True):
            if not o.choice_logprobs:
                reason = f"model error: {o.error}" if o.error else NO_SCORES
                out.append(_unscored(self.score_names(), reason))
                continue
            rank = rank_of_best_positive(o.choice_logprobs, positives_of(s))
            rec = {"top1": ScoreRecord(value=float(rank == 0), details={"rank": rank})}
            for k in self.args.get("topk", [5]):
                rec[f"top{k}"] = ScoreRecord(value=float(rank < k))
            out.append(rec)
        return out


@register("scorer", "retrieval")
class RetrievalScorer(Scorer):
    """Image-to-text ``i2t_R@<k>`` per image (args ``ks``, default [1, 5, 10]): whether one of
    the image's own captions is among the k best-scoring gallery captions."""

    def score_names(self) -> list[str]:
        return [f"i2t_R@{k}" for k in self.args.get("ks", [1, 5, 10])]

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = []
        for s, o in zip(samples, outputs, strict=True):
            if not o.choice_logprobs:
                reason = f"model error: {o.error}" if o.error else NO_SCORES
                out.append(_unscored(self.score_names(), reason))
                continue
            rank = rank_of_best_positive(o.choice_logprobs, positives_of(s))
            out.append(
                {
                    f"i2t_R@{k}": ScoreRecord(value=float(rank < k), details={"rank": rank})
                    for k in self.args.get("ks", [1, 5, 10])
                }
            )
        return out


def text_to_image_hits(
    scores: np.ndarray, positives: list[list[int]], ks: list[int]
) -> dict[int, list[float]]:
    """Per caption with an image among ``scores``' rows: 1.0 if that image is among the k
    highest-scoring images for the caption. ``scores`` is images x gallery captions."""
    owner: dict[int, int] = {}
    for row, pos in enumerate(positives):
        for j in pos:
            owner[j] = row
    hits: dict[int, list[float]] = {k: [] for k in ks}
    for j, row in sorted(owner.items()):
        col = scores[:, j]
        rank = int(np.sum(np.delete(col, row) >= col[row]))
        for k in ks:
            hits[k].append(float(rank < k))
    return hits


@register("metric", "retrieval_recall")
def retrieval_recall_metric(
    inp: MetricInput, ks: list[int] | None = None, **_: Any
) -> dict[str, MetricValue]:
    """``i2t_R@k`` (mean over images), ``t2i_R@k`` (mean over captions, from the images x
    captions score matrix of all records) and ``mean_R`` (mean of all of them)."""
    ks = list(ks or [1, 5, 10])
    _values, _clusters, meta = inp.scored()
    rows = [m for m in meta if m.get("choice_logprobs")]
    if not rows:
        return {}
    widths = {len(m["choice_logprobs"]) for m in rows}
    if len(widths) != 1:
        raise ValueError(
            f"retrieval_recall: samples have galleries of different sizes {sorted(widths)}; every "
            "sample of a retrieval task must list the same gallery captions as its choices"
        )
    scores = np.asarray([m["choice_logprobs"] for m in rows], dtype=float)
    positives = [[int(p) for p in m.get("positives") or []] for m in rows]
    if any(not p for p in positives):
        raise ValueError("retrieval_recall: every sample needs 'metadata.positives'")
    out: dict[str, MetricValue] = {}
    for k in ks:
        hits = [
            float(rank_of_best_positive(list(r), p) < k)
            for r, p in zip(scores, positives, strict=True)
        ]
        out[f"i2t_R@{k}"] = mean_with_ci(hits)
    for k, hits in text_to_image_hits(scores, positives, ks).items():
        out[f"t2i_R@{k}"] = mean_with_ci(hits)
    # the recalls share images and captions, so no SE for their mean (they are not independent)
    out["mean_R"] = MetricValue(value=float(np.mean([v.value for v in out.values()])), n=len(rows))
    return out
