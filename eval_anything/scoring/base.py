"""The scorer and metric interfaces.

A scorer turns (sample, model output) into one or more named scores per sample. Scorers that
need a judge declare the *roles* they need; the runner binds roles to judges before generation
and fails early when one is unbound. A score of ``None`` is *unscored* (for example an
unparseable judge verdict): it is counted and reported, never averaged in as zero.
A metric reduces the per-sample values of one score name to MetricValues (with SE and CI).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.results import ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.judges.base import Judge


@dataclass
class ScoreContext:
    """What a scorer may use besides the sample and output."""

    judges: dict[str, Judge] = field(default_factory=dict)
    run_dir: Path | None = None
    task: Any = None  # TaskSpec; typed loosely so scoring stays free of task YAML details

    def judge(self, role: str) -> Judge:
        if role not in self.judges:
            raise KeyError(f"judge role {role!r} is not bound (bind it with --judge {role}=...)")
        return self.judges[role]


class Scorer(ABC):
    """Base class of scorers (``@register("scorer", name)``); constructed with YAML ``args``."""

    roles: ClassVar[tuple[str, ...]] = ()
    registry_name: ClassVar[str] = ""

    def __init__(self, **args: Any) -> None:
        self.args = args

    @property
    def name(self) -> str:
        return self.args.get("score_name") or self.registry_name or type(self).__name__

    def score_names(self) -> list[str]:
        return [self.name]

    def required_roles(self) -> tuple[str, ...]:
        return self.roles

    @abstractmethod
    def score(
        self, samples: list[Sample], outputs: list[ModelOutput], ctx: ScoreContext
    ) -> list[dict[str, ScoreRecord]]:
        """One dict (score name -> record) per sample, in order."""


@dataclass
class MetricInput:
    """The per-sample values of one score name, with what metrics may group by."""

    score: str
    values: list[float | None]
    clusters: list[str | None]
    metadata: list[dict[str, Any]]

    def scored(self) -> tuple[list[float], list[str | None], list[dict[str, Any]]]:
        keep = [i for i, v in enumerate(self.values) if v is not None]
        return (
            [float(self.values[i]) for i in keep],  # type: ignore[arg-type]
            [self.clusters[i] for i in keep],
            [self.metadata[i] for i in keep],
        )
