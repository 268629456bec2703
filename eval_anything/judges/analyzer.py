"""``analyzer``: the mini suite's media judge. It measures generated pixels and samples
(:mod:`eval_anything.analyzers`) instead of asking a model.

- ``image_if``: the 4/3/2/1 rubric computed from the picture against the item's ``mini_spec``
  (background, object groups); items without a ``mini_spec`` (the real dataset) are unscored;
- ``tifa``: answers the item's multiple-choice question about the generated audio or video from
  measurements (beep count, pitch, motion, color, shape, object count); 10 if right, else 0.

It only understands the procedural generator's vocabulary, so its scores mean "the instruction
reached the generator intact", not the paper's judgment of free-form media.
"""

from __future__ import annotations

from typing import Any

from eval_anything.analyzers.audio import analyze_audio
from eval_anything.analyzers.checks import answer_question, image_rubric
from eval_anything.analyzers.image import analyze_image
from eval_anything.analyzers.video import analyze_video
from eval_anything.analyzers.vocabulary import SceneSpec
from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.registry import register
from eval_anything.scoring.tifa import score_choice, split_choices

VERSION = "v2"  # v2: colour rims of lossy video are not counted as objects


@register("judge", "analyzer")
class AnalyzerJudge(Judge):
    kinds = ("image_if", "tifa")

    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        if arg:
            raise ValueError(f"--judge ROLE=analyzer takes no argument (got {arg!r})")

    def identity(self) -> str:
        return f"analyzer:{VERSION}"

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        return [self._one(it) for it in items]

    def _one(self, item: JudgeItem) -> Judgment:
        if item.kind == "image_if":
            return self._image(item)
        if item.kind == "tifa":
            return self._tifa(item)
        return unsupported(self, item)

    def _image(self, item: JudgeItem) -> Judgment:
        spec = item.metadata.get("mini_spec")
        if not isinstance(spec, dict):
            return Judgment(None, reason="the analyzer judge needs the item's 'mini_spec' "
                            "(mini suite only); bind an image-capable LLM judge for real data")
        img = next((p for p in item.media if p.type == "image"), None)
        if img is None:
            return Judgment(None, reason="no image to analyze")
        facts = analyze_image(img.load())
        parts = image_rubric(SceneSpec.from_dict(spec), facts)
        found = [f"{o.color} {o.shape}" for o in facts.objects]
        return Judgment(
            parts["total"],
            raw=f"background={facts.background}; objects={found}",
            details={k: round(v, 4) for k, v in parts.items()},
        )

    def _tifa(self, item: JudgeItem) -> Judgment:
        media = next((p for p in item.media if p.type in ("audio", "video")), None)
        if media is None:
            return Judgment(None, reason="no audio or video to analyze")
        if media.type == "audio":
            wave, sr = media.load()
            facts: Any = analyze_audio(wave, sr)
        else:
            facts = analyze_video(media.load())
        options = split_choices(item.metadata.get("choices"))
        letter, info = answer_question(str(item.metadata.get("question", "")), options, facts)
        if letter is None:
            return Judgment(None, reason=info["reason"])
        raw = f"measured {info['measured']}={info['value']!r} -> option {letter or 'none'}"
        return score_choice(
            Judgment(None, raw=raw, choice=letter, details={**info, "predicted": letter}), item
        )
