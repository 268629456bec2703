"""EvalAnything-InstructionFollowing rows -> Samples (loader ``eval_anything_if``).

Every modality has ``prompt_id`` and ``prompt``; the audio and video subsets add a TIFA
question per row: ``question_id``, ``question``, ``choice`` (the options, a string or a list)
and ``answer`` (the right option's letter). One prompt may carry several questions; each row is
a sample (id ``<prompt_id>/<question_id>``) clustered by ``prompt_id``, so standard errors
account for questions that share one generation. Mini-suite rows may add ``mini_spec``, the
scene or sound the prompt describes, which the pixel analyzer checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.sample import Sample
from eval_anything.formats.fields import FormatError, require
from eval_anything.registry import register

FORMAT = "EvalAnything-InstructionFollowing"
BASE_FIELDS = ("prompt_id", "prompt")
TIFA_FIELDS = ("question_id", "question", "choice", "answer")
MODALITIES = ("text", "image", "audio", "video")


@register("loader", "eval_anything_if")
def instruction_following_loader(
    row: dict[str, Any], index: int, base_dir: Path, modality: str = "text", **_: Any
) -> Sample:
    if modality not in MODALITIES:
        raise FormatError(f"loader eval_anything_if: args.modality={modality!r}; choose one of "
                          f"{', '.join(MODALITIES)}")
    tifa = modality in ("audio", "video")
    require(row, f"{FORMAT} ({modality})", BASE_FIELDS + (TIFA_FIELDS if tifa else ()))
    prompt_id = str(row["prompt_id"])
    meta: dict[str, Any] = {
        "modality": modality, "prompt_id": prompt_id, "prompt": str(row["prompt"]),
    }
    sample_id = prompt_id
    if tifa:
        answer = str(row["answer"]).strip().upper().strip("().")
        if len(answer) != 1 or not "A" <= answer <= "H":
            raise FormatError(f"{FORMAT} field 'answer' must be an option letter such as 'B' "
                              f"(got {row['answer']!r})")
        meta.update(question_id=str(row["question_id"]), question=str(row["question"]),
                    choice=row["choice"], answer=answer)
        sample_id = f"{prompt_id}/{row['question_id']}"
    if "mini_spec" in row:
        meta["mini_spec"] = row["mini_spec"]
    return Sample(
        id=sample_id,
        input=[TextPart(text=str(row["prompt"]))],
        metadata=meta,
        cluster=prompt_id if tifa else None,
    )
