"""AMG instruction following, per output modality (the ``modality`` arg).

- text: the ``judge`` role rates the text answer 1-10;
- image: the ``image_judge`` role scores the generated image on the 4/3/2/1 rubric (0-10);
- audio, video: the ``av_judge`` role answers the item's multiple-choice question about the
  generated media (TIFA): 10 if right, 0 if wrong.

Score name ``instruction_following``; metric: mean (0-10 scale). A model that produces no media
of the asked modality scores 0 for the item (recorded as ``missing_output``): that is the model
failing the instruction, not a judge failing to judge.
"""

from __future__ import annotations

from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.judges.base import JudgeItem, JudgeKind
from eval_anything.registry import register
from eval_anything.scoring.base import ScoreContext, Scorer
from eval_anything.scoring.judged import (
    answer_text,
    error_record,
    first_media,
    missing_record,
    run_judge,
)
from eval_anything.scoring.tifa import score_choice

ROLE_BY_MODALITY = {
    "text": "judge", "image": "image_judge", "audio": "av_judge", "video": "av_judge",
}
KIND_BY_MODALITY: dict[str, JudgeKind] = {
    "text": "text_if", "image": "image_if", "audio": "tifa", "video": "tifa"
}


@register("scorer", "instruction_following")
class InstructionFollowingScorer(Scorer):
    """args: ``modality`` (text | image | audio | video)."""

    roles = ("judge", "image_judge", "av_judge")

    def __init__(self, **args: Any) -> None:
        args.setdefault("score_name", "instruction_following")
        modality = args.get("modality", "text")
        if modality not in ROLE_BY_MODALITY:
            raise ValueError(
                f"scorer instruction_following: args.modality={modality!r}; choose one of "
                f"{', '.join(ROLE_BY_MODALITY)}"
            )
        args["modality"] = modality
        super().__init__(**args)
        self.modality = modality
        self.role = ROLE_BY_MODALITY[modality]
        self.kind = KIND_BY_MODALITY[modality]

    def required_roles(self) -> tuple[str, ...]:
        return (self.role,)

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = [{} for _ in samples]
        idx, items = [], []
        for i, (s, o) in enumerate(zip(samples, outputs, strict=True)):
            if o.error:
                out[i][self.name] = error_record(o)
                continue
            item = self._item(s, o, ctx)
            if item is None:
                out[i][self.name] = missing_record(self.modality)
                continue
            idx.append(i)
            items.append(item)
        judge, judgments = run_judge(ctx, self.role, (self.kind,), items)
        for i, item, j in zip(idx, items, judgments, strict=True):
            if self.kind == "tifa":
                j = score_choice(j, item)
            out[i][self.name] = j.to_record(judge.identity())
        return out

    def _item(self, s: Sample, o: ModelOutput, ctx: ScoreContext) -> JudgeItem | None:
        prompt = str(s.metadata.get("prompt", s.text))
        if self.modality == "text":
            return JudgeItem(kind="text_if", prompt=prompt, response=answer_text(o))
        media = first_media(o, self.modality, ctx.run_dir)
        if media is None:
            return None
        meta: dict[str, Any] = {}
        if self.modality == "image":
            meta["mini_spec"] = s.metadata.get("mini_spec")
        else:
            meta = {
                "question": s.metadata.get("question"),
                "choices": s.metadata.get("choice"),
                "answer": s.metadata.get("answer"),
            }
        return JudgeItem(kind=self.kind, prompt=prompt, media=[media], metadata=meta)
