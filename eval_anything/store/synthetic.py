"""Synthetic runs built from numbers: for tests, the leaderboard benchmark and demos of the app.

They go through the real results contract (``Results`` + ``SampleRecord`` written with the
``eval_anything.core.results`` helpers) so whatever reads a real run reads these the same way; no
model is involved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval_anything.core.content import TextPart
from eval_anything.core.results import (
    JudgeInfo,
    Lineage,
    ModelInfo,
    Results,
    RunSpec,
    SampleRecord,
    ScoreRecord,
    TaskResult,
)
from eval_anything.core.results_files import samples_path, write_results, write_sample_records
from eval_anything.stats.intervals import mean_with_ci


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_records(
    task: str,
    values: Sequence[float | None],
    score: str = "acc",
    clusters: Sequence[str | None] | None = None,
    outputs: Sequence[str] | None = None,
    judge: str | None = None,
) -> list[SampleRecord]:
    """One record per value, ids ``<task>-0000``...; ``None`` values are unscored."""
    records = []
    for i, v in enumerate(values):
        sid = f"{task}-{i:04d}"
        out = outputs[i] if outputs is not None else f"answer {i}"
        records.append(SampleRecord(
            sample_id=sid,
            cluster=clusters[i] if clusters is not None else None,
            input_ref=_sha(f"{task}/{sid}"),
            input=[TextPart(text=f"Question {i} of {task}?")],
            target=f"target {i}",
            prompt_hash=_sha(f"prompt/{task}/{sid}"),
            output=[TextPart(text=out)],
            scores={score: ScoreRecord(
                value=None if v is None else float(v),
                unscored_reason="no verdict" if v is None else None,
                judge=judge,
                raw_judgment=f"Rating: [[{v}]]" if judge else None,
            )},
        ))
    return records


def task_result_of(
    task: str,
    records: list[SampleRecord],
    fingerprint: str | None = None,
    cluster_key: str | None = None,
    judges: list[JudgeInfo] | None = None,
    input_modalities: Sequence[str] = ("text",),
    output_modalities: Sequence[str] = ("text",),
) -> TaskResult:
    """The task's result as the runner reduces it: ``mean`` of each score with (clustered) CI."""
    names: list[str] = []
    for r in records:
        names += [n for n in r.scores if n not in names]
    metrics = {}
    unscored = {}
    for name in names:
        pairs = [(r.scores[name].value, r.cluster) for r in records if name in r.scores]
        scored = [(v, c) for v, c in pairs if v is not None]
        metrics[name] = mean_with_ci([v for v, _ in scored], [c for _, c in scored])
        unscored[name] = len(pairs) - len(scored)
    return TaskResult(
        task=task, task_version="1", task_fingerprint=fingerprint or _sha(f"fp/{task}"),
        n=len(records), n_unscored=unscored, metrics=metrics, judges=list(judges or []),
        input_modalities=list(input_modalities), output_modalities=list(output_modalities),
        cluster_key=cluster_key,
    )


def make_results(
    run_id: str,
    task_results: dict[str, TaskResult],
    model_name: str = "tiny-model",
    training_run_id: str | None = None,
    step: int | None = None,
    created_at: str = "2026-01-01T00:00:00+00:00",
    git_commit: str | None = "0123456789abcdef0123456789abcdef01234567",
) -> Results:
    lineage = None
    if training_run_id is not None:
        lineage = Lineage(training_run_id=training_run_id, step=step or 0,
                          checkpoint_path=f"/ckpt/{training_run_id}/step-{step}")
    return Results(
        run_id=run_id,
        created_at=created_at,
        spec=RunSpec(model="scripted", model_args={"path": model_name}, tasks=list(task_results)),
        model=ModelInfo(adapter="scripted", name=model_name, identity=_sha(f"model/{model_name}"),
                        input_modalities=["text"], output_modalities=["text"]),
        environment={"git_commit": git_commit, "git_dirty": False,  # type: ignore[arg-type]
                     "packages": {"eval-anything": "0.1.0"}, "platform": "synthetic"},
        lineage=lineage,
        tasks=task_results,
    )


def write_run(run_dir: Path, results: Results, records: dict[str, list[SampleRecord]]) -> Path:
    """Write ``results.json`` and ``samples/<task>.jsonl``: a run directory like the runner's."""
    for task, recs in records.items():
        write_sample_records(samples_path(run_dir, task), recs)
    write_results(run_dir, results)
    return Path(run_dir)


def binary_run(
    run_dir: Path, run_id: str, values: dict[str, Sequence[float | None]], **kwargs: Any
) -> Path:
    """A run directory whose tasks have the given per-sample 0/1 (or any) ``acc`` values."""
    records = {t: make_records(t, v) for t, v in values.items()}
    results = make_results(run_id, {t: task_result_of(t, r) for t, r in records.items()}, **kwargs)
    return write_run(run_dir, results, records)


def random_store_runs(
    n_runs: int, n_tasks: int, n_samples: int, seed: int = 0, models_per_training_run: int = 10,
) -> Iterator[tuple[Results, dict[str, list[SampleRecord]]]]:
    """``n_runs`` runs of varied skill over ``n_tasks`` tasks: half are checkpoints of training
    runs (steps 100, 200, ...), half standalone models. For the load benchmark and app tests."""
    rng = np.random.default_rng(seed)
    tasks = [f"task_{i:02d}" for i in range(n_tasks)]
    for i in range(n_runs):
        skill = rng.uniform(0.2, 0.9)
        in_training = i % 2 == 0
        train_id = f"train-{i // (2 * models_per_training_run):03d}" if in_training else None
        step = 100 * (1 + (i // 2) % models_per_training_run) if in_training else None
        if in_training:
            skill = min(0.95, 0.3 + 0.05 * (step or 0) / 100 + rng.normal(0, 0.02))
        records, results = {}, {}
        for j, task in enumerate(tasks):
            p = float(np.clip(skill + 0.1 * np.sin(j), 0.02, 0.98))
            vals = (rng.random(n_samples) < p).astype(float).tolist()
            records[task] = make_records(task, vals)
            modality = ("text", "image", "audio", "video")[j % 4]
            inputs = ["text"] if modality == "text" else ["text", modality]
            results[task] = task_result_of(task, records[task], input_modalities=inputs)
        name = train_id or f"model-{i:04d}"
        stamp = f"2026-01-01T{i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}+00:00"
        results_obj = make_results(f"run{i:05d}", results, model_name=name,
                                   training_run_id=train_id, step=step, created_at=stamp)
        yield results_obj, records
