"""AMG modality synergy: how well the generated text, image and audio work together, per pair.

The model answers each instruction with all three modalities (the task's prompt asks for text
plus an image and an audio instruction; the agent adapter renders them). The judge bound to
``synergy_judge`` rates each pair ``ti``, ``ta``, ``ia`` in 0-1: the paper uses a trained reward
model (``reward:DIR``); offline stand-ins are ``minilm`` (agreement of the text with the
generators' instructions) and ``clip`` (text against image pixels, ``ti`` only).

Scores ``synergy/ti``, ``synergy/ta``, ``synergy/ia`` and ``synergy`` (mean of the item's scored
pairs). A pair whose modality the model did not produce scores 0 (``missing_output``).
"""

from __future__ import annotations

from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.formats.sections import parse_sections
from eval_anything.judges.base import JudgeItem, Judgment
from eval_anything.registry import register
from eval_anything.scoring.base import ScoreContext, Scorer
from eval_anything.scoring.judged import (
    MISSING_OUTPUT_RULE,
    answer_text,
    error_record,
    first_media,
    run_judge,
)

PAIRS = ("ti", "ta", "ia")
TITLES = {"t": "text answer", "i": "image", "a": "audio"}
MEDIA = {"i": "image", "a": "audio"}


def modality_views(output: ModelOutput, ctx: ScoreContext) -> dict[str, dict[str, Any]]:
    """Per modality letter: whether present, its media part, and its text description (the
    answer for ``t``; the generator instruction for ``i``/``a`` when the answer is sectioned)."""
    text = "".join(p.text for p in output.parts if isinstance(p, TextPart))
    sections = parse_sections(text)
    response = answer_text(output)
    views: dict[str, dict[str, Any]] = {"t": {"present": bool(response), "desc": response}}
    for letter, modality in MEDIA.items():
        part = first_media(output, modality, ctx.run_dir)
        views[letter] = {"present": part is not None, "part": part,
                         "desc": sections.get(modality) if sections.found else None}
    return views


def on_unit_scale(judgment: Judgment) -> Judgment:
    """A synergy verdict on 0-1, as S_AMG takes it: a rating ``r`` out of ``R`` (an LLM judge's
    1-10) counts ``r / R``; a judge that already answers on 0-1 (a reward model's sigmoid, a
    CLIP cosine) gives no ``out_of`` and is taken as it is."""
    if judgment.value is None or not judgment.out_of or judgment.out_of == 1.0:
        return judgment
    judgment.details = {**judgment.details, "rating": judgment.value}
    judgment.value = judgment.value / judgment.out_of
    return judgment


@register("scorer", "modality_synergy")
class ModalitySynergyScorer(Scorer):
    roles = ("synergy_judge",)

    def score_names(self) -> list[str]:
        return [*(f"synergy/{p}" for p in PAIRS), "synergy"]

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = [{} for _ in samples]
        slots: list[tuple[int, str]] = []
        items: list[JudgeItem] = []
        for i, (s, o) in enumerate(zip(samples, outputs, strict=True)):
            if o.error:
                out[i] = {n: error_record(o) for n in self.score_names()}
                continue
            views = modality_views(o, ctx)
            prompt = str(s.metadata.get("instruction", s.text))
            for pair in PAIRS:
                a, b = pair[0], pair[1]
                absent = [TITLES[m] for m in (a, b) if not views[m]["present"]]
                if absent:
                    out[i][f"synergy/{pair}"] = ScoreRecord(
                        value=0.0, judge=MISSING_OUTPUT_RULE, details={"missing_output": absent}
                    )
                    continue
                slots.append((i, pair))
                items.append(self._item(prompt, pair, views))
        judge, judgments = run_judge(ctx, "synergy_judge", ("synergy",), items)
        for (i, pair), j in zip(slots, judgments, strict=True):
            out[i][f"synergy/{pair}"] = on_unit_scale(j).to_record(judge.identity())
        for rec in out:
            if "synergy" in rec:
                continue
            vals = [rec[f"synergy/{p}"].value for p in PAIRS if f"synergy/{p}" in rec]
            scored = [v for v in vals if v is not None]
            rec["synergy"] = (
                ScoreRecord(value=sum(scored) / len(scored))
                if scored else ScoreRecord(value=None, unscored_reason="no pair was scored")
            )
        return out

    @staticmethod
    def _item(prompt: str, pair: str, views: dict[str, dict[str, Any]]) -> JudgeItem:
        a, b = pair[0], pair[1]
        media = [views[m]["part"] for m in (a, b) if m in MEDIA]
        descriptions = {MEDIA[m]: views[m]["desc"] for m in MEDIA if views[m]["desc"]}
        return JudgeItem(
            kind="synergy",
            prompt=prompt,
            response=views["t"]["desc"] or "",
            media=media,
            metadata={
                "pair": pair,
                "first": views[a]["desc"], "second": views[b]["desc"],
                "first_title": TITLES[a], "second_title": TITLES[b],
                "descriptions": descriptions,
            },
        )
