"""The store's tables (the current schema; migrations under ``migrations/versions`` build it).

Why this shape: the leaderboard's main page needs only one row per (run, task) with the primary
metric, so ``task_results`` carries it denormalized and the page's query touches two tables.
Everything else (all metrics, judges, per-sample scores, the full ``results.json`` and each
sample record) is kept for drilldown, comparison, the gate and reproducibility. Media files are
stored once by content hash so a shared (PostgreSQL) store shows them on any machine.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("created_at", String(40), nullable=False),
    Column("pushed_at", String(40), nullable=False),
    Column("model_name", Text, nullable=False),
    Column("model_adapter", String(64), nullable=False),
    Column("model_identity", String(128), nullable=False),
    Column("input_modalities", String(64), nullable=False, default=""),
    Column("output_modalities", String(64), nullable=False, default=""),
    Column("training_run_id", String(256)),
    Column("step", Integer),
    Column("checkpoint_path", Text),
    Column("git_commit", String(64)),
    Column("git_dirty", Boolean),
    Column("run_dir", Text),
    Column("results_json", Text, nullable=False),
    Index("ix_runs_model_identity", "model_identity"),
    Index("ix_runs_training", "training_run_id", "step"),
)

task_results = Table(
    "task_results",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("task", String(256), primary_key=True),
    Column("kind", String(8), nullable=False),  # 'task' or 'group'
    Column("task_version", String(64), nullable=False, default=""),
    Column("task_fingerprint", String(64), nullable=False, default=""),
    Column("n", Integer, nullable=False, default=0),
    Column("primary_metric", String(256)),
    Column("value", Float),
    Column("stderr", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("input_modalities", String(64), nullable=False, default=""),
    Column("output_modalities", String(64), nullable=False, default=""),
    Column("cluster_key", String(128)),
    Index("ix_task_results_task", "task"),
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("task", String(256), primary_key=True),
    Column("metric", String(256), primary_key=True),
    Column("value", Float),
    Column("stderr", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("n", Integer, nullable=False, default=0),
    Column("clustered", Boolean, nullable=False, default=False),
)

judges = Table(
    "judges",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("task", String(256), primary_key=True),
    Column("role", String(128), primary_key=True),
    Column("identity", Text, nullable=False),
    Column("template_hash", String(64)),
)

samples = Table(
    "samples",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("task", String(256), primary_key=True),
    Column("sample_id", String(256), primary_key=True),
    Column("cluster", String(256)),
    Column("input_ref", String(64), nullable=False),
    Column("prompt_hash", String(64), nullable=False),
    Column("record_json", Text, nullable=False),
)

sample_scores = Table(
    "sample_scores",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("task", String(256), primary_key=True),
    Column("sample_id", String(256), primary_key=True),
    Column("score", String(256), primary_key=True),
    Column("value", Float),
    Column("unscored_reason", Text),
    Column("judge", Text),
)

media = Table(
    "media",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("mime", String(128)),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

run_media = Table(
    "run_media",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("sha256", String(64), ForeignKey("media.sha256"), nullable=False),
)

# Child tables of a run, in the order a re-push deletes them.
RUN_CHILDREN = (run_media, sample_scores, samples, judges, metrics, task_results)
