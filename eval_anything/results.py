"""The results contract: ``RUN_DIR/results.json`` and ``RUN_DIR/samples/<task>.jsonl``.

These two files are what the store ingests, the leaderboard shows, the gate compares and the
trainers' auto-score hook writes. The schema is versioned; readers refuse a newer major version.
All writes are atomic (write to a temporary file in the same folder, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from eval_anything.content import Part
from eval_anything.errors import UserError
from eval_anything.stats import MetricValue

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
    limit: int | None = Field(default=None, description="Max samples per task.")
    seed: int = Field(default=0, description="Seed for sampling and sample selection.")
    batch_size: int = Field(default=8, description="Requests per adapter call.")
    shard: str | None = Field(default=None, description="'i/n' when this run is one shard.")
    gen_overrides: dict[str, Any] = Field(
        default_factory=dict, description="Generation config overrides applied to every task."
    )
    lm_eval_include_paths: list[str] = Field(
        default_factory=list, description="Folders of lm-eval task YAML (lm_eval:<task> tasks)."
    )


class ModelInfo(BaseModel):
    """Who was evaluated."""

    adapter: str
    name: str = Field(description="Human-readable model name (path or hub id).")
    identity: str = Field(
        description="sha256 over adapter, weights identity and output-changing args."
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


class JudgeInfo(BaseModel):
    role: str
    identity: str = Field(description="Judge kind and model identity, e.g. 'llm:hf:<sha>'.")
    template_hash: str | None = Field(default=None, description="sha256 of the prompt template.")


class TaskResult(BaseModel):
    task: str
    task_version: str
    task_fingerprint: str = Field(description="sha256 over the spec and every sample's content.")
    n: int = Field(description="Samples evaluated.")
    n_unscored: dict[str, int] = Field(
        default_factory=dict, description="Per score name: samples whose score is missing."
    )
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    judges: list[JudgeInfo] = Field(default_factory=list)
    input_modalities: list[str] = Field(default_factory=list)
    output_modalities: list[str] = Field(default_factory=list)
    cluster_key: str | None = None
    primary_metric: str | None = Field(
        default=None, description="The metric that ranks and gates this task."
    )
    details: dict[str, Any] = Field(default_factory=dict)


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
    timings: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict, description="Token usage totals.")
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


class SchemaVersionError(UserError):
    pass


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(run_dir: Path, results: Results) -> Path:
    path = Path(run_dir) / RESULTS_FILE
    atomic_write_text(path, results.model_dump_json(indent=2))
    results._run_dir = Path(run_dir)
    return path


def read_results(run_dir: Path) -> Results:
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no results file (is this a run directory?)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    version = raw.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path}: schema_version {version!r} is not supported by this eval-anything "
            f"(reads up to {SCHEMA_VERSION}); upgrade eval-anything"
        )
    results = Results.model_validate(raw)
    results._run_dir = Path(run_dir)
    return results


def samples_path(run_dir: Path, task: str) -> Path:
    return Path(run_dir) / SAMPLES_DIR / f"{task}.jsonl"


def iter_sample_records(path: Path) -> Iterator[SampleRecord]:
    """Records of a sample log; a torn last line (killed mid-write) is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield SampleRecord.model_validate_json(line)
            except ValueError:
                continue


def read_sample_records(run_dir: Path, task: str) -> list[SampleRecord]:
    """Last record per sample id wins (a resumed run may have appended a sample twice)."""
    by_id: dict[str, SampleRecord] = {}
    for rec in iter_sample_records(samples_path(run_dir, task)):
        by_id[rec.sample_id] = rec
    return list(by_id.values())


def append_sample_records(path: Path, records: Iterable[SampleRecord]) -> None:
    """Append whole lines and fsync, so a kill loses at most the batch in flight."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(r.model_dump_json() + "\n" for r in records)
    with path.open("a", encoding="utf-8") as f:
        if f.tell() > 0:
            _repair_torn_tail(path, f)
        f.write(lines)
        f.flush()
        os.fsync(f.fileno())


def _repair_torn_tail(path: Path, f: Any) -> None:
    with path.open("rb") as r:
        r.seek(-1, os.SEEK_END)
        if r.read(1) != b"\n":
            f.write("\n")


def write_sample_records(path: Path, records: Iterable[SampleRecord]) -> None:
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in records))
