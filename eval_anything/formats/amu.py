"""EvalAnything-AMU rows -> Samples (loader ``eval_anything_amu``).

Fields: ``question_id``, ``question``, ``visual_modality_path`` (an image or a video),
``auditory_modality_path``, ``evaluation_dimension`` (perception, reasoning,
instruction-following, safety) and ``annotations``: up to ten human answers, each
``{"answer": str, "keywords": {"visual": [...], "auditory": [...]}}``.

Media paths are relative to the data file's folder, or to the ``media_root`` loader arg (e.g. the
folder where the dataset's ``visual.tar.gz`` and ``auditory.tar.gz`` were unpacked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.sample import Sample
from eval_anything.formats.fields import FormatError, as_str_list, require
from eval_anything.media.kinds import IMAGE_SUFFIXES
from eval_anything.registry import register

FORMAT = "EvalAnything-AMU"
FIELDS = (
    "question_id", "question", "visual_modality_path", "auditory_modality_path",
    "evaluation_dimension", "annotations",
)
DIMENSIONS = ("perception", "reasoning", "instruction-following", "safety")


def normalize_annotation(ann: Any, k: int) -> dict[str, Any]:
    if not isinstance(ann, dict) or "answer" not in ann:
        raise FormatError(f"{FORMAT} field 'annotations[{k}]' needs an 'answer' (got {ann!r:.80})")
    kw = ann.get("keywords") or {}
    if not isinstance(kw, dict):
        raise FormatError(f"{FORMAT} field 'annotations[{k}].keywords' must be an object "
                          "with 'visual' and 'auditory' lists")
    return {
        "answer": str(ann["answer"]),
        "visual_keywords": as_str_list(
            kw.get("visual"), FORMAT, f"annotations[{k}].keywords.visual"
        ),
        "auditory_keywords": as_str_list(
            kw.get("auditory"), FORMAT, f"annotations[{k}].keywords.auditory"
        ),
    }


def _media(path: str, root: Path, auditory: bool) -> Any:
    p = Path(path)
    full = str(p if p.is_absolute() else root / p)
    if auditory:
        return AudioPart(path=full)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return ImagePart(path=full)
    return VideoPart(path=full)


@register("loader", "eval_anything_amu")
def amu_loader(
    row: dict[str, Any], index: int, base_dir: Path, media_root: str | None = None, **_: Any
) -> Sample:
    require(row, FORMAT, FIELDS)
    anns = row["annotations"]
    if not isinstance(anns, list) or not anns:
        raise FormatError(f"{FORMAT} field 'annotations' must be a non-empty list")
    annotations = [normalize_annotation(a, k) for k, a in enumerate(anns)]
    root = base_dir if media_root is None else (base_dir / media_root)
    parts: list[Any] = []
    if str(row["visual_modality_path"]).strip():
        parts.append(_media(str(row["visual_modality_path"]), root, auditory=False))
    if str(row["auditory_modality_path"]).strip():
        parts.append(_media(str(row["auditory_modality_path"]), root, auditory=True))
    question = str(row["question"])
    parts.append(TextPart(text=question))
    dim = str(row["evaluation_dimension"]).strip().lower()
    return Sample(
        id=str(row["question_id"]),
        input=parts,
        references=[a["answer"] for a in annotations],
        metadata={
            "question": question,
            "evaluation_dimension": dim,
            "annotations": annotations,
            "visual_modality_path": row["visual_modality_path"],
            "auditory_modality_path": row["auditory_modality_path"],
        },
    )
