"""Initial schema: runs, per-task results and metrics, judges, samples and per-sample scores.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_fk() -> sa.Column:
    return sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("pushed_at", sa.String(40), nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_adapter", sa.String(64), nullable=False),
        sa.Column("model_identity", sa.String(128), nullable=False),
        sa.Column("input_modalities", sa.String(64), nullable=False),
        sa.Column("output_modalities", sa.String(64), nullable=False),
        sa.Column("training_run_id", sa.String(256)),
        sa.Column("step", sa.Integer),
        sa.Column("checkpoint_path", sa.Text),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("run_dir", sa.Text),
        sa.Column("results_json", sa.Text, nullable=False),
    )
    op.create_index("ix_runs_model_identity", "runs", ["model_identity"])
    op.create_index("ix_runs_training", "runs", ["training_run_id", "step"])
    op.create_table(
        "task_results",
        _run_fk(),
        sa.Column("task", sa.String(256), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("task_version", sa.String(64), nullable=False),
        sa.Column("task_fingerprint", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("primary_metric", sa.String(256)),
        sa.Column("value", sa.Float),
        sa.Column("stderr", sa.Float),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("input_modalities", sa.String(64), nullable=False),
        sa.Column("output_modalities", sa.String(64), nullable=False),
        sa.Column("cluster_key", sa.String(128)),
    )
    op.create_index("ix_task_results_task", "task_results", ["task"])
    op.create_table(
        "metrics",
        _run_fk(),
        sa.Column("task", sa.String(256), primary_key=True),
        sa.Column("metric", sa.String(256), primary_key=True),
        sa.Column("value", sa.Float),
        sa.Column("stderr", sa.Float),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("clustered", sa.Boolean, nullable=False),
    )
    op.create_table(
        "judges",
        _run_fk(),
        sa.Column("task", sa.String(256), primary_key=True),
        sa.Column("role", sa.String(128), primary_key=True),
        sa.Column("identity", sa.Text, nullable=False),
        sa.Column("template_hash", sa.String(64)),
    )
    op.create_table(
        "samples",
        _run_fk(),
        sa.Column("task", sa.String(256), primary_key=True),
        sa.Column("sample_id", sa.String(256), primary_key=True),
        sa.Column("cluster", sa.String(256)),
        sa.Column("input_ref", sa.String(64), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("record_json", sa.Text, nullable=False),
    )
    op.create_table(
        "sample_scores",
        _run_fk(),
        sa.Column("task", sa.String(256), primary_key=True),
        sa.Column("sample_id", sa.String(256), primary_key=True),
        sa.Column("score", sa.String(256), primary_key=True),
        sa.Column("value", sa.Float),
        sa.Column("unscored_reason", sa.Text),
        sa.Column("judge", sa.Text),
    )


def downgrade() -> None:
    for table in ("sample_scores", "samples", "judges", "metrics", "task_results"):
        op.drop_table(table)
    op.drop_index("ix_runs_training", "runs")
    op.drop_index("ix_runs_model_identity", "runs")
    op.drop_table("runs")
