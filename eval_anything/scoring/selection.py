"""AMG modality selection: did the model pick the output modalities people would pick?

Each instruction carries crowd vote shares over the seven output combinations ``t, i, a, ti, ta,
ia, tia``. The model answers in sections (see :mod:`eval_anything.formats.sections`); a section
saying "None" is not chosen. The item score is the vote share of the combination the model chose,
except that choosing all three counts one third of ``tia``'s share: a model cannot collect credit
by always generating everything. Choosing nothing at all scores 0 (no voter chose nothing).

Where the original release's example code defaulted an all-"None" answer to ``t``, this scorer
scores it 0, and an answer without any section header counts as text only (what it is).
"""

from __future__ import annotations

from typing import Any

from eval_anything.core.content import AudioPart, ImagePart, TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.formats.sections import parse_sections
from eval_anything.registry import register
from eval_anything.scoring.base import MetricInput, ScoreContext, Scorer
from eval_anything.stats.intervals import MetricValue, mean_with_ci

COMBINATIONS = ("t", "i", "a", "ti", "ta", "ia", "tia")
PAIRS = ("ti", "ta", "ia")
TIA_DISCOUNT = 1.0 / 3.0


def chosen_combination(output: ModelOutput) -> tuple[str, dict[str, Any]]:
    """The combination an output chose, as letters in ``t, i, a`` order (``""`` = nothing).

    Sections decide when the text has them; media parts in the output count as chosen too
    (a native any-to-any model answers with the media themselves).
    """
    text = "".join(p.text for p in output.parts if isinstance(p, TextPart))
    sections = parse_sections(text)
    if sections.found:
        has = {
            "t": sections.chosen("response"),
            "i": sections.chosen("image"),
            "a": sections.chosen("audio"),
        }
    else:
        has = {"t": bool(text.strip()), "i": False, "a": False}
    has["i"] = has["i"] or any(isinstance(p, ImagePart) for p in output.parts)
    has["a"] = has["a"] or any(isinstance(p, AudioPart) for p in output.parts)
    combo = "".join(k for k in ("t", "i", "a") if has[k])
    details: dict[str, Any] = {"chosen": combo, "sectioned": sections.found}
    if sections.found and sections.chosen("video"):
        details["video_ignored"] = True  # the selection set has no video combinations
    return combo, details


def selection_score(combo: str, shares: dict[str, float]) -> float:
    """Vote share of ``combo``; ``tia`` counts one third; nothing chosen scores 0."""
    if combo == "":
        return 0.0
    if combo not in COMBINATIONS:
        raise ValueError(f"unknown modality combination {combo!r}; expected one of {COMBINATIONS}")
    share = float(shares.get(combo, 0.0))
    return share * TIA_DISCOUNT if combo == "tia" else share


@register("scorer", "modality_selection")
class ModalitySelectionScorer(Scorer):
    """Score name ``selection`` (args: ``score_name``); no judge needed. Reads the vote shares
    from ``sample.metadata['selection']`` (the EvalAnything-Selection_Synergy field)."""

    def __init__(self, **args: Any) -> None:
        args.setdefault("score_name", "selection")
        super().__init__(**args)

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = []
        for s, o in zip(samples, outputs, strict=True):
            if o.error:
                rec = ScoreRecord(value=None, unscored_reason=f"model error: {o.error}")
            else:
                shares = s.metadata.get("selection")
                if not isinstance(shares, dict):
                    raise ValueError(
                        f"sample {s.id!r} has no 'selection' vote shares in its metadata; use "
                        "loader eval_anything_selection for this task"
                    )
                combo, details = chosen_combination(o)
                rec = ScoreRecord(value=selection_score(combo, shares), details=details)
            out.append({self.name: rec})
        return out


@register("metric", "vote_share")
def vote_share_metric(inp: MetricInput, prefix: str = "alpha", **_: Any) -> dict[str, MetricValue]:
    """Mean crowd vote share per combination over the task's items (``alpha/ti`` ...).

    The alphas are properties of the dataset, not of the model; S_AMG weighs pairs by them.
    """
    out: dict[str, MetricValue] = {}
    metas = [m for m in inp.metadata if isinstance(m.get("selection"), dict)]
    for combo in COMBINATIONS:
        shares = [float(m["selection"].get(combo, 0.0)) for m in metas]
        out[f"{prefix}/{combo}"] = mean_with_ci(shares)
    return out
