"""The results contract: what ``RUN_DIR/results.json`` and ``RUN_DIR/samples/<task>.jsonl`` hold.

These two files are what the store ingests, the leaderboard shows, the gate compares and the
trainers' auto-score hook writes. The types and the rule for a task's primary metric live here;
reading and writing the files (versioned, atomic) lives in :mod:`eval_anything.core.results_files`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from eval_anything.core.content import Part
from eval_anything.stats.intervals import MetricValue

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
SAMPLES_DIR = "samples"
MEDIA_DIR = "media"  # media a model produced: <run>/media/<task>/...


class RunSpec(BaseModel):
    """What was asked for: enough to rerun the evaluation."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(description="Adapter name in the model registry (hf, openai, vllm, ...).")
    model_args: dict[str, Any] = Field(
        default_factory=dict, description="Adapter arguments, secrets removed."
    )
    tasks: list[str] = Field(description="Task and group names as requested.")
    judges: dict[str, str] = Field(default_factory=dict, description="Role -> judge binding.")
    judge_repeats: int = Field(
        default=1,
        description="Times a sampling judge is asked per item (seeds 0..K-1); the item's score "
        "is the mean of its repeats (docs/judges.md).",
    )
    limit: int | None = Field(default=None, description="Max samples per task.")
    seed: int = Field(
        default=0,
        description="Seed given to the model for sampled generation (temperature > 0); greedy "
        "tasks ignore it. Samples are never shuffled: --limit takes the first N of a task.",
    )
    batch_size: int = Field(
        default=8,
        description="Requests per call to a model computed in this process (hf, a local judge); "
        "a served model keeps its max_concurrency requests in flight and vLLM takes large chunks.",
    )
    shard: str | None = Field(default=None, description="'i/n' when this run is one shard.")
    gen_overrides: dict[str, Any] = Field(
        default_factory=dict, description="Generation config overrides applied to every task."
    )
    lm_eval_include_paths: list[str] = Field(
        default_factory=list, description="Folders of lm-eval task YAML (lm_eval:<task> tasks)."
    )


class ModelInfo(BaseModel):
    """Who was evaluated."""

    adapter: str = Field(description="The adapter that ran the model (hf, smollm2, vllm, ...).")
    name: str = Field(description="Human-readable model name: the name model arg, else the path "
                      "or hub id. A label only: not part of the identity.")
    identity: str = Field(
        description="sha256 of the model identity. For checkpoint weights (hf, smollm2, vllm): "
        "the weights identity and the settings that change generation, not the adapter or the "
        "label, so one checkpoint is one model whichever adapter ran it; for other adapters "
        "(served APIs, scripted, agents): the adapter identity."
    )
    details: dict[str, Any] = Field(
        default_factory=dict, description="Adapter-reported facts: dtype, chat template sha, ..."
    )
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)


class Environment(BaseModel):
    git_commit: str | None = None
    git_dirty: bool | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    platform: str = ""
    python: str = ""
    device: str = ""


class Lineage(BaseModel):
    """Set when the run scores a training checkpoint."""

    training_run_id: str
    step: int
    checkpoint_path: str | None = None


class TrainOverlap(BaseModel):
    """How many of a task's items the scored checkpoint's training data contained (set by
    ``train``'s overlap check; see docs/training.md, "Train and test kept apart")."""

    flagged: int = Field(description="Items of the task found in the data the model trained on "
                         "(0 when the overlapping rows were dropped).")
    n: int = Field(description="Items of the task checked.")
    dropped_rows: int = Field(
        default=0, description="Training rows left out because they contain items of the task "
        "(--exclude-overlap).")
    report: str | None = Field(default=None, description="The training run's overlap report.")

    def label(self) -> str:
        """``'⚠ overlap 3/24'`` when items overlap, else an empty string."""
        return f"⚠ overlap {self.flagged}/{self.n}" if self.flagged else ""


class JudgeInfo(BaseModel):
    role: str
    identity: str = Field(description="Judge kind and model identity, e.g. 'llm:hf:<sha>'.")
    template_hash: str | None = Field(default=None, description="sha256 of the prompt template.")


class JudgeAgreement(BaseModel):
    """How far a task's judged score can be trusted, as measured: the agreement within a panel
    of judges, between repeats of one sampling judge, or of the judge with human labels.

    ``value`` is a chance-corrected agreement (1 perfect, 0 chance level): Krippendorff's alpha
    for a panel or repeats, Cohen's kappa (quadratic-weighted for ratings) against labels. The
    gate's ``--min-judge-agreement`` compares it (docs/judges.md)."""

    score: str = Field(description="The judged score measured (a name in the sample records).")
    source: str = Field(description="panel, repeats or labels: where the figure comes from.")
    judge: str | None = Field(default=None, description="Identity of the judge behind the score.")
    statistic: str = Field(
        description="krippendorff_alpha (panel, repeats), kappa_quadratic (rating labels) or "
        "kappa (binary or pairwise labels)."
    )
    value: float | None = Field(description="The agreement; None when undefined on these items.")
    ci_low: float | None = Field(default=None, description="95% bootstrap interval, low end.")
    ci_high: float | None = Field(default=None, description="95% bootstrap interval, high end.")
    level: str | None = Field(
        default=None, description="Level of measurement of the alpha: interval or nominal."
    )
    n: int = Field(default=0, description="Items the figure is computed on.")
    raters: int | None = Field(default=None, description="Panel members or repeats per item.")
    within_item_sd: float | None = Field(
        default=None,
        description="Repeats: mean over items of the standard deviation of an item's repeated "
        "verdicts (the judge's own noise, on the score's scale).",
    )
    figures: dict[str, float | None] = Field(
        default_factory=dict,
        description="Other figures of the measurement (labels: spearman, ...).",
    )


class CacheUse(BaseModel):
    """How much of a run's work came from the response cache (``cache.sqlite``) instead of the
    model or the judges. An answer read back costs no model time, so the timings and the
    samples per second of a run mostly answered from the cache say nothing about the model's
    speed; this record says when that is so."""

    answers: int = Field(
        default=0, description="Model answers this run needed (items kept from an earlier run's "
        "sample log are not counted).")
    answers_cached: int = Field(
        default=0, description="Of those, answers read from the response cache.")
    judgments: int = Field(default=0, description="Judge calls this run needed.")
    judgments_cached: int = Field(
        default=0, description="Of those, judgments read from the response cache.")

    @property
    def dominated(self) -> bool:
        """More than half of the work was read from the cache: timings are not the model's."""
        work = self.answers + self.judgments
        return work > 0 and 2 * (self.answers_cached + self.judgments_cached) > work

    def summary(self) -> str:
        """``'24 of 24 answers from the cache'`` (and the judgments, when there were any)."""
        text = f"{self.answers_cached} of {self.answers} answers from the cache"
        if self.judgments:
            text += f", {self.judgments_cached} of {self.judgments} judgments"
        return text

    @staticmethod
    def total(parts: Iterable[CacheUse | None]) -> CacheUse | None:
        """The sum of the known parts (None when none is known: older results)."""
        known = [p for p in parts if p is not None]
        if not known:
            return None
        return CacheUse(
            answers=sum(p.answers for p in known),
            answers_cached=sum(p.answers_cached for p in known),
            judgments=sum(p.judgments for p in known),
            judgments_cached=sum(p.judgments_cached for p in known),
        )


class TaskResult(BaseModel):
    task: str
    task_version: str
    task_fingerprint: str = Field(description="sha256 over the spec and every sample's content.")
    n: int = Field(description="Samples evaluated.")
    n_unscored: dict[str, int] = Field(
        default_factory=dict, description="Per score name: samples whose score is missing."
    )
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    n_failed: int = Field(
        default=0,
        description="Items whose model or judge call failed after retries; not done: a rerun "
        "into the run folder retries them.",
    )
    failure_reasons: dict[str, int] = Field(
        default_factory=dict, description="The most common failure reasons and their counts."
    )
    judges: list[JudgeInfo] = Field(default_factory=list)
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)
    modality_gaps: list[str] = Field(
        default_factory=list,
        description="Output modalities the task asks for that the model cannot emit (said "
        "before the run): answers lack them and score 0 there. Empty when the model emits all.",
    )
    cluster_key: str | None = None
    primary_metric: str | None = Field(
        default=None, description="The metric that ranks and gates this task."
    )
    details: dict[str, Any] = Field(default_factory=dict)
    judge_agreement: list[JudgeAgreement] = Field(
        default_factory=list,
        description="The judged scores' measured agreement (panel, repeats, human labels); "
        "empty when unknown.",
    )
    train_overlap: TrainOverlap | None = Field(
        default=None,
        description="A training checkpoint's run: how many of the task's items its training "
        "data contained; None when not checked.",
    )
    cache: CacheUse | None = Field(
        default=None,
        description="Answers and judgments of this task read from the response cache; None "
        "when not counted (lm-eval tasks, runs written before it was recorded).",
    )

    def lowest_judge_agreement(self) -> float | None:
        """The weakest agreement measured for this task's judged scores (None: none known)."""
        values = [a.value for a in self.judge_agreement if a.value is not None]
        return min(values) if values else None

    def primary(self, declared: str | None = None) -> str | None:
        """The metric that ranks, aggregates and gates this task: ``declared`` (a spec's
        ``primary_metric``), else the one recorded at run time, by :func:`choose_primary_metric`."""
        recorded = self.primary_metric or self.details.get("primary_metric")
        return choose_primary_metric(self.metrics, declared or recorded)


def choose_primary_metric(metrics: Iterable[str], declared: str | None) -> str | None:
    """A task's primary metric, the one rule: the declared metric when the task computed it,
    else its first metric (metrics are listed in the spec's order)."""
    names = list(metrics)
    if isinstance(declared, str) and declared in names:
        return declared
    return names[0] if names else None


def primary_score_name(result: TaskResult, records: list[SampleRecord]) -> str | None:
    """The per-sample score behind the primary metric. Metrics are named after the score they
    reduce (``acc``, or ``rating/perception`` for a per-dimension mean of ``rating``), so the
    longest score name that the metric equals or starts with ``<score>/`` is the one."""
    names: list[str] = []
    for r in records:
        names += [n for n in r.scores if n not in names]
    if not names:
        return None
    metric = result.primary()
    if metric is not None:
        matches = [n for n in names if metric == n or metric.startswith(n + "/")]
        if matches:
            return max(matches, key=len)
    return names[0]


class GroupResult(BaseModel):
    group: str
    tasks: list[str]
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    aggregation: str = "mean"


class Results(BaseModel):
    """The whole of ``results.json``."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    created_at: str
    spec: RunSpec
    model: ModelInfo
    environment: Environment = Field(default_factory=Environment)
    lineage: Lineage | None = None
    tasks: dict[str, TaskResult] = Field(default_factory=dict)
    groups: dict[str, GroupResult] = Field(default_factory=dict)
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds per task and in total ('total'); see "
        "'cache' for how much of that was reading the response cache.")
    usage: dict[str, int] = Field(default_factory=dict, description="Token usage totals.")
    cache: CacheUse | None = Field(
        default=None,
        description="The run's answers and judgments read from the response cache (the sum "
        "over its tasks); None when not counted (runs written before it was recorded).",
    )
    _run_dir: Path | None = PrivateAttr(default=None)

    @property
    def run_dir(self) -> Path | None:
        """The folder this run was written to or read from (not serialized)."""
        return self._run_dir


class ScoreRecord(BaseModel):
    """One scorer's verdict on one sample. ``value`` None means unscored, never zero."""

    value: float | None
    unscored_reason: str | None = None
    judge: str | None = Field(default=None, description="Judge identity, when a judge was used.")
    prompt_hash: str | None = Field(default=None, description="sha256 of the judge prompt.")
    raw_judgment: str | None = Field(default=None, description="The judge's raw output.")
    details: dict[str, Any] = Field(default_factory=dict)


class SampleRecord(BaseModel):
    """One line of ``samples/<task>.jsonl``."""

    sample_id: str
    cluster: str | None = None
    input_ref: str = Field(description="sha256 of the sample's content (inputs and targets).")
    input: list[Part] = Field(default_factory=list, description="Input parts (media by path).")
    target: str | None = None
    prompt_hash: str = Field(description="sha256 of the rendered request sent to the model.")
    output: list[Part] = Field(
        default_factory=list, description="Output parts; media under the run dir."
    )
    scores: dict[str, ScoreRecord] = Field(default_factory=dict)
    consumed_modalities: list[str] = Field(
        default_factory=list, description="Input modalities the model actually received."
    )
    usage: dict[str, int] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def score_value(self, score: str) -> float | None:
        """The value of score ``score``; None when the sample has no such score or it is
        unscored (never zero)."""
        rec = self.scores.get(score)
        return None if rec is None else rec.value
