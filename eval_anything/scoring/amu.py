"""AMU, all-modality understanding: an answer about an image or video plus a sound, rated 1-10
by the judge bound to ``judge`` against up to ten human references with their visual and
auditory keywords (an LLM judge with the dimension's instructions, or the keyword / MiniLM
stand-ins). Metric: mean per evaluation dimension (perception, reasoning,
instruction-following, safety) and ``all`` = the unweighted mean of the dimension means
(``mean_by`` in the task YAML).

Each record also says which input modalities the model did not receive (``missing_inputs``),
and the score ``inputs_consumed`` (1 when the model received every input) shows in the table
how often a model answered part-blind.
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


def missing_inputs(sample: Sample, output: ModelOutput) -> list[str]:
    consumed = output.consumed_modalities or sample.modalities
    return [m for m in sample.modalities if m not in consumed]


@register("scorer", "amu_rating")
class AMURatingScorer(Scorer):
    """Scores ``amu`` (1-10, judged) and ``inputs_consumed`` (0/1). Role: ``judge``."""

    roles = ("judge",)

    def __init__(self, **args: Any) -> None:
        args.setdefault("score_name", "amu")
        super().__init__(**args)

    def score_names(self) -> list[str]:
        return [self.name, "inputs_consumed"]

    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        out: list[dict[str, ScoreRecord]] = [{} for _ in samples]
        idx, items = [], []
        for i, (s, o) in enumerate(zip(samples, outputs, strict=True)):
            missing = missing_inputs(s, o)
            out[i]["inputs_consumed"] = ScoreRecord(
                value=float(not missing), details={"missing_inputs": missing}
            )
            if o.error:
                out[i][self.name] = error_record(o)
                continue
            idx.append(i)
            items.append(
                JudgeItem(
                    kind="amu",
                    prompt=str(s.metadata.get("question", s.text)),
                    response=answer_text(o),
                    references=list(s.metadata.get("annotations") or []),
                    metadata={"evaluation_dimension": s.metadata.get("evaluation_dimension")},
                )
            )
        judge, judgments = run_judge(ctx, "judge", ("amu",), items)
        for i, j in zip(idx, judgments, strict=True):
            missing = out[i]["inputs_consumed"].details["missing_inputs"]
            out[i][self.name] = j.to_record(judge.identity(), {"missing_inputs": missing})
        return out
