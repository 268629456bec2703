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
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from eval_anything.core.content import Part
from eval_anything.errors import UserError, environment_failure
from eval_anything.redact import redact
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
    cluster_key: str | None = None
    primary_metric: str | None = Field(
        default=None, description="The metric that ranks and gates this task."
    )
    details: dict[str, Any] = Field(default_factory=dict)

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


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """A full disk, a folder we may not write, a read-only file system: one line naming
    ``path`` and the fix (exit 4) instead of a traceback."""
    try:
        yield
    except OSError as e:
        env = environment_failure(e, path)
        if env is None:
            raise
        raise env from e


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (secrets redacted) to a temporary file beside ``path``, then rename: a
    reader sees the old file or the new one, never half of one."""
    text = redact(text)
    with writing(path):
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


class ResultsFileError(UserError):
    """A results file or sample log that cannot be read; the message names the file (and line)."""


def read_results(run_dir: Path) -> Results:
    """``RUN_DIR/results.json``, strictly: a missing, truncated or invalid file is an error
    naming the file (and the line of a JSON error, or the field of a schema error)."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise ResultsFileError(
            f"{path}: no results file (is {run_dir} a run directory? a run writes it when it ends)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as e:
        raise ResultsFileError(f"{path}: not UTF-8 text ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise ResultsFileError(
            f"{path}:{e.lineno}: not valid JSON ({e.msg}); the file is truncated or was edited: "
            "rerun into the run folder to write it again"
        ) from None
    except OSError as e:
        raise ResultsFileError(f"{path}: cannot read it ({e.strerror})") from None
    if not isinstance(raw, dict):
        raise ResultsFileError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path}: schema_version {version!r} is not supported by this eval-anything "
            f"(reads up to {SCHEMA_VERSION}); upgrade eval-anything"
        )
    try:
        results = Results.model_validate(raw)
    except ValidationError as e:
        raise ResultsFileError(f"{path}: not a valid results file: {_first_error(e)}") from None
    results._run_dir = Path(run_dir)
    return results


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    field = ".".join(str(x) for x in err["loc"]) or "(top)"
    more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
    return f"field '{field}': {err['msg']}{more}"


def samples_path(run_dir: Path, task: str) -> Path:
    return Path(run_dir) / SAMPLES_DIR / f"{task}.jsonl"


def iter_sample_records(path: Path) -> Iterator[SampleRecord]:
    """Records of a sample log. A torn *last* line (a kill mid-write, no newline after it) is
    ignored, and repaired by the next append; any other unreadable line is an error naming the
    file and the line, never skipped."""
    if not path.exists():
        return
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ResultsFileError(f"{path}: cannot read it ({e.strerror})") from None
    lines = raw.split(b"\n")
    torn_tail = not raw.endswith(b"\n")
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield SampleRecord.model_validate_json(line)
        except ValidationError as e:
            if torn_tail and lineno == len(lines):
                return
            raise ResultsFileError(
                f"{path}:{lineno}: not a sample record: {_first_error(e)}; the sample log was "
                "edited or damaged: remove that line (a rerun recomputes the sample)"
            ) from None


def read_sample_records(run_dir: Path, task: str) -> list[SampleRecord]:
    """Last record per sample id wins (a resumed run may have appended a sample twice)."""
    by_id: dict[str, SampleRecord] = {}
    for rec in iter_sample_records(samples_path(run_dir, task)):
        by_id[rec.sample_id] = rec
    return list(by_id.values())


def append_sample_records(
    path: Path, records: Iterable[SampleRecord], fsync: bool = True
) -> None:
    """Append whole lines, so a kill loses at most the batch in flight; ``fsync`` also forces
    them to disk (a killed process loses nothing once written; fsync guards against the
    machine going down, and the runner's sample log spaces its fsyncs out)."""
    with open_sample_log(path) as f:
        write_sample_lines(f, path, records, fsync)


def open_sample_log(path: Path) -> TextIO:
    """The sample log ``path`` opened for appending (its folder made, a torn last line cut):
    a writer that appends many times keeps it open rather than paying this per append."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("a", encoding="utf-8")
        try:
            if f.tell() > 0:
                _repair_torn_tail(path, f)
        except BaseException:
            f.close()
            raise
        return f


def write_sample_lines(
    f: TextIO, path: Path, records: Iterable[SampleRecord], fsync: bool = True
) -> None:
    """Append ``records`` (secrets redacted) as whole lines to ``f``, opened by
    :func:`open_sample_log`, and hand them to the operating system at once."""
    lines = redact("".join(r.model_dump_json() + "\n" for r in records))
    with writing(path):
        start = f.tell()
        try:
            f.write(lines)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        except OSError:
            _truncate_quietly(f, start)  # a full disk leaves no torn line behind
            raise


def _repair_torn_tail(path: Path, f: Any) -> None:
    """Cut a torn last line (a kill mid-write) so the next record starts on a line of its own
    and the log holds only whole records."""
    with path.open("rb") as r:
        r.seek(-1, os.SEEK_END)
        if r.read(1) == b"\n":
            return  # the common case: one byte read, whatever the log's size
        keep, tail = _last_line(r)
    try:
        SampleRecord.model_validate_json(tail)
        f.write("\n")  # a whole record that lacks only its newline: keep it
        return
    except ValidationError:
        pass
    f.flush()
    f.truncate(keep)
    f.seek(keep)


def _last_line(r: Any, chunk: int = 1 << 16) -> tuple[int, bytes]:
    """Offset and bytes of the last (unterminated) line, read backwards chunk by chunk."""
    end = r.seek(0, os.SEEK_END)
    pos, tail = end, b""
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        r.seek(pos)
        tail = r.read(step) + tail
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return pos + cut + 1, tail[cut + 1 :]
    return 0, tail


def _truncate_quietly(f: Any, size: int) -> None:
    try:
        f.truncate(size)
    except OSError:
        pass


def write_sample_records(path: Path, records: Iterable[SampleRecord]) -> None:
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in records))
