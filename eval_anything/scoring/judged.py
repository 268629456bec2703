"""Helpers shared by the scorers that ask a judge: resolve output media against the run
directory, check the bound judge can rate the items, call it once per batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.formats.sections import response_text
from eval_anything.judges.base import Judge, JudgeItem, JudgeKind, Judgment, require_kind
from eval_anything.scoring.base import ScoreContext


def absolute(part: Any, run_dir: Path | None) -> Any:
    """A media part whose relative path (under the run dir) is made absolute."""
    path = getattr(part, "path", None)
    if path is None or Path(path).is_absolute() or run_dir is None:
        return part
    return part.model_copy(update={"path": str((Path(run_dir) / path).resolve())})


def first_media(output: ModelOutput, modality: str, run_dir: Path | None) -> Any | None:
    part = next((p for p in output.parts if p.type == modality), None)
    return None if part is None else absolute(part, run_dir)


def answer_text(output: ModelOutput) -> str:
    """The model's text answer (the ``response`` section when the answer is sectioned)."""
    return response_text("".join(p.text for p in output.parts if isinstance(p, TextPart)))


def run_judge(ctx: ScoreContext, role: str, kinds: tuple[JudgeKind, ...],
              items: list[JudgeItem]) -> tuple[Judge, list[Judgment]]:
    """The judge bound to ``role`` and its judgments of ``items`` (checked it can rate them)."""
    judge = ctx.judge(role)
    require_kind(judge, role, kinds)
    if not items:
        return judge, []
    judgments = judge.judge(items)
    if len(judgments) != len(items):
        raise RuntimeError(f"judge {judge.identity()} returned {len(judgments)} judgments for "
                           f"{len(items)} items")
    return judge, judgments


def error_record(output: ModelOutput) -> ScoreRecord:
    return ScoreRecord(value=None, unscored_reason=f"model error: {output.error}")


MISSING_OUTPUT_RULE = "rule:missing-output"


def missing_record(modality: str, value: float = 0.0) -> ScoreRecord:
    """The model produced no ``modality`` where the task asked for one: the lowest score (a
    failure of the model, not of a judge, so it is scored rather than left unscored)."""
    return ScoreRecord(value=value, judge=MISSING_OUTPUT_RULE, details={"missing_output": modality})
