"""What a calibration reports: per task and judged score (or per preference file), the counts
behind the figures and each figure with its interval.

The JSON written by ``eval-anything agreement --json`` is :meth:`AgreementReport.to_json`:

``{"tasks": {TASK: ENTRY}}`` for labels joined to runs, ``{"preferences": {DATA: ENTRY}}`` for
preference rows. An ENTRY holds ``score`` (the score it measures), ``kind`` (``rating``,
``binary``, ``pairwise`` or ``preference``), ``judges`` (the judge identities behind the
score), the counts ``n`` (pairs the figures are computed on), ``n_labels``, ``n_unscored``
(labelled items the judge gave no verdict: counted, never joined as zeros), ``n_unmatched``
(labels that match no sample of the runs) and ``n_rule_scored`` (labelled items a rule scored
instead of the judge: the model produced no image, say), ``bootstrap`` (resamples and seed), and
one ``{"value", "ci_low", "ci_high"}`` per figure. When a task's labels measure more than one of
its scores, the entry is its headline score's (the score behind the primary metric when it is
labelled, else the first labelled score by name) and ``scores`` holds an entry for every
labelled score, the headline one included.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from eval_anything.stats.agreement import Figure

FIGURES_BY_KIND: dict[str, tuple[str, ...]] = {
    "rating": ("spearman", "kendall_tau_b", "kappa_quadratic", "exact", "within_1",
               "mean_bias"),
    "binary": ("accuracy", "kappa"),
    "pairwise": ("accuracy", "kappa", "tie_rate"),
    "preference": ("accuracy", "kappa", "position_consistency", "tie_rate"),
}


class ScoreAgreement(BaseModel):
    """A judge's agreement with people on one score (or one preference file)."""

    score: str | None = Field(description="The score measured (None for preference rows).")
    kind: str = Field(description="rating, binary, pairwise or preference.")
    judges: list[str] = Field(default_factory=list, description="Judge identities.")
    n: int = Field(default=0, description="Paired items the figures are computed on.")
    n_labels: int = Field(default=0, description="Label rows (or preference pairs) read.")
    n_unscored: int = Field(default=0, description="Labelled items without a judge verdict.")
    n_unmatched: int = Field(default=0, description="Labels matching no sample of the runs.")
    n_rule_scored: int = Field(default=0, description="Labelled items a rule scored, no judge.")
    figures: dict[str, Figure] = Field(default_factory=dict)
    resamples: int = 0
    seed: int = 0
    notes: list[str] = Field(default_factory=list, description="What the user should know.")
    details: dict[str, Any] = Field(default_factory=dict, description="Source facts (file,...).")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "score": self.score, "kind": self.kind, "judges": self.judges, "n": self.n,
            "n_labels": self.n_labels, "n_unscored": self.n_unscored,
            "n_unmatched": self.n_unmatched, "n_rule_scored": self.n_rule_scored,
            "bootstrap": {"resamples": self.resamples, "seed": self.seed},
        }
        out.update(self.details)
        if self.notes:
            out["notes"] = list(self.notes)
        for name, fig in self.figures.items():
            out[name] = fig.model_dump()
        return out


class TaskAgreement(BaseModel):
    """One task: its headline score's agreement, and every labelled score's."""

    headline: ScoreAgreement
    scores: dict[str, ScoreAgreement] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = self.headline.to_json()
        if len(self.scores) > 1:
            out["scores"] = {name: s.to_json() for name, s in self.scores.items()}
        return out


class AgreementReport(BaseModel):
    """Everything one ``eval-anything agreement`` call measured."""

    tasks: dict[str, TaskAgreement] = Field(default_factory=dict)
    preferences: dict[str, ScoreAgreement] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        if self.preferences:
            return {"preferences": {k: v.to_json() for k, v in self.preferences.items()}}
        return {"tasks": {k: v.to_json() for k, v in self.tasks.items()}}

    def rows(self) -> list[tuple[str, ScoreAgreement]]:
        """(name, agreement) for every measured score, in report order, for tables."""
        out: list[tuple[str, ScoreAgreement]] = []
        for task, t in self.tasks.items():
            scores = t.scores if len(t.scores) > 1 else {t.headline.score or "": t.headline}
            out += [(task, s) for s in scores.values()]
        out += list(self.preferences.items())
        return out
