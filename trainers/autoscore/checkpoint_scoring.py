"""Scoring one checkpoint in its own process, and the ledger of what was scored.

Both the auto-score callback and ``watch`` use this. A checkpoint is evaluated by a child Python
process (``python -m eval_anything.trainers.autoscore.score_worker JOB``), so a crash in
evaluation (a corrupt weight file, an out-of-memory, a bug in a judge) never takes the training
down. A
checkpoint counts as scored only once the child exited cleanly *and* ``results.json`` exists;
the ledger (a JSON file, written atomically) then records it, so a restart never rescores it.
A failure is recorded with its error and is not retried unless asked.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from eval_anything.core.results import RESULTS_FILE
from eval_anything.core.results_files import atomic_write_text, read_results

log = logging.getLogger(__name__)

LEDGER_FILE = "ledger.json"
JOB_FILE = "score_job.json"
LOG_FILE = "score.log"
ERROR_FILE = "score_error.json"
OUTCOME_FILE = "score_outcome.json"
WORKER_MODULE = "eval_anything.trainers.autoscore.score_worker"


class ScoreSettings(BaseModel):
    """How every checkpoint is scored (one per callback or watcher)."""

    tasks: list[str]
    model: str = "hf"
    model_args: dict[str, Any] = Field(default_factory=dict)
    limit: int | None = None
    include_paths: list[str] = Field(default_factory=list)
    judges: dict[str, str] = Field(default_factory=dict)
    batch_size: int = 8
    gen_overrides: dict[str, Any] = Field(default_factory=dict)
    cache_path: str | bool = Field(default=True, description="True: the shared default cache.")
    push: bool = True
    store: str | None = None
    timeout_s: float | None = None
    base_model: str | None = Field(
        default=None, description="Base of PEFT adapter checkpoints (passed as model arg 'base')."
    )


class ScoreJob(BaseModel):
    """What the child process is asked to do (written as ``score_job.json`` in the run dir)."""

    settings: ScoreSettings
    checkpoint: str
    step: int
    training_run_id: str
    run_dir: str


class ScoreOutcome(BaseModel):
    """One line of the ledger."""

    name: str = Field(description="Checkpoint folder name (or 'base').")
    checkpoint: str
    step: int
    status: Literal["scored", "failed"]
    run_dir: str
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict, description="'task/metric' -> value.")
    primary: list[str] = Field(
        default_factory=list, description="The keys of ``metrics`` that are tasks' primary metrics."
    )
    error: str | None = None
    pushed_run_id: str | None = None
    push_note: str | None = None
    seconds: float = 0.0
    finished_at: str = ""


class Ledger:
    """``ledger.json``: which checkpoints are scored or failed; survives restarts."""

    def __init__(self, path: Path, training_run_id: str) -> None:
        self.path = Path(path)
        self.training_run_id = training_run_id
        self.entries: dict[str, ScoreOutcome] = {}
        if self.path.exists():
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.training_run_id = raw.get("training_run_id") or training_run_id
            self.entries = {
                k: ScoreOutcome.model_validate(v) for k, v in raw.get("checkpoints", {}).items()
            }

    def get(self, name: str) -> ScoreOutcome | None:
        return self.entries.get(name)

    def record(self, outcome: ScoreOutcome) -> None:
        self.entries[outcome.name] = outcome
        data = {
            "training_run_id": self.training_run_id,
            "checkpoints": {k: v.model_dump(mode="json") for k, v in self.entries.items()},
        }
        atomic_write_text(self.path, json.dumps(data, indent=2))

    def in_step_order(self) -> list[ScoreOutcome]:
        return sorted(self.entries.values(), key=lambda o: o.step)


def checkpoint_model_args(settings: ScoreSettings, checkpoint: Path) -> dict[str, Any]:
    """Adapter args for a checkpoint folder; a PEFT adapter is loaded on its base."""
    args = {**settings.model_args, "pretrained": str(checkpoint)}
    if (checkpoint / "adapter_config.json").exists() and settings.base_model:
        args.setdefault("base", settings.base_model)
    return args


class CheckpointScorer:
    """Scores checkpoints one at a time in child processes and keeps the ledger."""

    def __init__(
        self, settings: ScoreSettings, runs_dir: Path, training_run_id: str,
        python: str = sys.executable, progress: bool = True,
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.runs_dir = Path(runs_dir)
        self.ledger = Ledger(self.runs_dir / LEDGER_FILE, training_run_id)
        self.training_run_id = self.ledger.training_run_id
        self.python = python

    def is_done(self, name: str) -> bool:
        return self.ledger.get(name) is not None

    def score(self, checkpoint: Path, step: int, name: str | None = None) -> ScoreOutcome:
        """Evaluate ``checkpoint`` in a child process; record and return the outcome."""
        name = name or Path(checkpoint).name
        run_dir = self.runs_dir / name
        if run_dir.exists() and not (run_dir / RESULTS_FILE).exists():
            shutil.rmtree(run_dir)  # a failed or killed attempt: start that run over
        run_dir.mkdir(parents=True, exist_ok=True)
        job = ScoreJob(
            settings=self.settings, checkpoint=str(Path(checkpoint).resolve()), step=step,
            training_run_id=self.training_run_id, run_dir=str(run_dir.resolve()),
        )
        atomic_write_text(run_dir / JOB_FILE, job.model_dump_json(indent=2))
        started = time.perf_counter()
        self._say(f"scoring {name} (step {step}) on {', '.join(self.settings.tasks)} ...")
        error = self._run_child(run_dir)
        outcome = self._outcome(name, job, run_dir, error, time.perf_counter() - started)
        self.ledger.record(outcome)
        self._say(done_line(outcome, run_dir))
        if outcome.status == "failed":
            log.warning("checkpoint %s (step %d) was not scored: %s", name, step, outcome.error)
        else:
            log.info("checkpoint %s (step %d) scored: %s", name, step, outcome.metrics)
        return outcome

    def _say(self, line: str) -> None:
        """One line on stderr per checkpoint start and end (with the elapsed time): the child
        process's own bars go to its log file, so this is what a user watching sees."""
        if self.progress:
            from eval_anything.redact import redact

            print(redact(line), file=sys.stderr, flush=True)

    def _run_child(self, run_dir: Path) -> str | None:
        """Run the worker; the error text when it failed, else None."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [self.python, "-m", WORKER_MODULE, str(run_dir / JOB_FILE)]
        with (run_dir / LOG_FILE).open("w", encoding="utf-8") as logf:
            try:
                proc = subprocess.run(
                    cmd, stdout=logf, stderr=subprocess.STDOUT, env=env,
                    timeout=self.settings.timeout_s, check=False,
                )
            except subprocess.TimeoutExpired:
                return f"evaluation timed out after {self.settings.timeout_s} s"
        if proc.returncode == 0 and (run_dir / RESULTS_FILE).exists():
            return None
        err_file = run_dir / ERROR_FILE
        if err_file.exists():
            return str(json.loads(err_file.read_text(encoding="utf-8"))["error"])
        tail = (run_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-1500:]
        return f"evaluation process exited with code {proc.returncode}: {tail.strip()}"

    def _outcome(
        self, name: str, job: ScoreJob, run_dir: Path, error: str | None, seconds: float
    ) -> ScoreOutcome:
        base: dict[str, Any] = {
            "name": name, "checkpoint": job.checkpoint, "step": job.step,
            "run_dir": str(run_dir), "seconds": round(seconds, 2),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if error is not None:
            return ScoreOutcome(status="failed", error=error, **base)
        results = read_results(run_dir)
        extra: dict[str, Any] = {}
        if (run_dir / OUTCOME_FILE).exists():
            extra = json.loads((run_dir / OUTCOME_FILE).read_text(encoding="utf-8"))
        return ScoreOutcome(
            status="scored", run_id=results.run_id, metrics=flat_metrics(results),
            primary=[f"{t}/{p}" for t, tr in results.tasks.items() if (p := tr.primary())],
            pushed_run_id=extra.get("pushed_run_id"), push_note=extra.get("push_note"), **base,
        )


def done_line(outcome: ScoreOutcome, run_dir: Path) -> str:
    """``checkpoint-40 (step 40) scored in 12.3 s: task/metric=0.5`` or why it was not."""
    head = f"{outcome.name} (step {outcome.step})"
    if outcome.status == "failed":
        first = (outcome.error or "").strip().splitlines()[:1]
        return (f"{head} not scored after {outcome.seconds:.1f} s: "
                f"{first[0] if first else 'no error text'} (log: {run_dir / LOG_FILE})")
    shown = headline(outcome) or outcome.metrics
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in list(shown.items())[:4])
    return f"{head} scored in {outcome.seconds:.1f} s" + (f": {metrics}" if metrics else "")


def headline(outcome: ScoreOutcome) -> dict[str, float]:
    """The primary metric of each task (all metrics when the results name none)."""
    keys = [k for k in outcome.primary if k in outcome.metrics]
    return {k: outcome.metrics[k] for k in keys} if keys else dict(outcome.metrics)


def flat_metrics(results: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for task, tr in results.tasks.items():
        for metric, mv in tr.metrics.items():
            out[f"{task}/{metric}"] = mv.value
    for group, gr in results.groups.items():
        for metric, mv in gr.metrics.items():
            out[f"{group}/{metric}"] = mv.value
    return out
