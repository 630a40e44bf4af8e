"""Alerts: change points detected on a series along main's history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=False),
        sa.Column("last_good_commit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("magnitude", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('regression', 'improvement', 'environment')", name=op.f("ck_alerts_kind")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'fixed')", name=op.f("ck_alerts_status")
        ),
        sa.ForeignKeyConstraint(
            ["benchmark_id"], ["benchmarks.id"], name=op.f("fk_alerts_benchmark_id_benchmarks")
        ),
        sa.ForeignKeyConstraint(
            ["commit_id"], ["commits.id"], name=op.f("fk_alerts_commit_id_commits")
        ),
        sa.ForeignKeyConstraint(
            ["last_good_commit_id"],
            ["commits.id"],
            name=op.f("fk_alerts_last_good_commit_id_commits"),
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_alerts_machine_id_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        op.f("ix_alerts_benchmark_id_metric_machine_id"),
        "alerts",
        ["benchmark_id", "metric", "machine_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("alerts")
