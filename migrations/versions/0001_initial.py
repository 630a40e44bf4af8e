"""Initial schema: commits, machines, environments, runs, benchmarks, measurements, outcomes.

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


def upgrade() -> None:
    op.create_table(
        "benchmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmarks")),
        sa.UniqueConstraint("key", name=op.f("uq_benchmarks_key")),
    )
    op.create_table(
        "commits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("author_time", sa.DateTime(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commits")),
        sa.UniqueConstraint("sha", name=op.f("uq_commits_sha")),
    )
    op.create_table(
        "environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("os", sa.String(length=64), nullable=False),
        sa.Column("os_version", sa.String(length=255), nullable=False),
        sa.Column("python_version", sa.String(length=32), nullable=False),
        sa.Column("python_arch", sa.String(length=32), nullable=False),
        sa.Column("rosetta", sa.Boolean(), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environments")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_environments_fingerprint")),
    )
    op.create_table(
        "machines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("chip", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("cpu_cores", sa.Integer(), nullable=False),
        sa.Column("performance_cores", sa.Integer(), nullable=True),
        sa.Column("efficiency_cores", sa.Integer(), nullable=True),
        sa.Column("gpu_cores", sa.Integer(), nullable=True),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("hardware_arch", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machines")),
        sa.UniqueConstraint("fingerprint", "name", name=op.f("uq_machines_fingerprint_name")),
    )
    op.create_index(op.f("ix_machines_fingerprint"), "machines", ["fingerprint"], unique=False)
    op.create_table(
        "commit_parents",
        sa.Column("commit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("parent_sha", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["commits.id"],
            name=op.f("fk_commit_parents_commit_id_commits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("commit_id", "position", name=op.f("pk_commit_parents")),
    )
    op.create_index(
        op.f("ix_commit_parents_parent_sha"), "commit_parents", ["parent_sha"], unique=False
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(length=128), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("profile", sa.String(length=16), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=True),
        sa.Column("ci_url", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.Column("thermal_state", sa.String(length=64), nullable=True),
        sa.Column("low_power_mode", sa.Boolean(), nullable=True),
        sa.Column("load_average", sa.Double(), nullable=True),
        sa.CheckConstraint("status IN ('passed', 'failed')", name=op.f("ck_runs_status")),
        sa.ForeignKeyConstraint(
            ["commit_id"], ["commits.id"], name=op.f("fk_runs_commit_id_commits")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_runs_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_runs_machine_id_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("run_key", name=op.f("uq_runs_run_key")),
    )
    op.create_index(op.f("ix_runs_commit_id"), "runs", ["commit_id"], unique=False)
    op.create_index(
        op.f("ix_runs_machine_id_environment_id"),
        "runs",
        ["machine_id", "environment_id"],
        unique=False,
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("median", sa.Double(), nullable=False),
        sa.Column("mean", sa.Double(), nullable=False),
        sa.Column("stddev", sa.Double(), nullable=False),
        sa.Column("min", sa.Double(), nullable=False),
        sa.Column("max", sa.Double(), nullable=False),
        sa.Column("q1", sa.Double(), nullable=False),
        sa.Column("q3", sa.Double(), nullable=False),
        sa.Column("samples", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "direction IN ('lower', 'higher')", name=op.f("ck_measurements_direction")
        ),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmarks.id"],
            name=op.f("fk_measurements_benchmark_id_benchmarks"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_measurements_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
        sa.UniqueConstraint(
            "run_id",
            "benchmark_id",
            "metric",
            name=op.f("uq_measurements_run_id_benchmark_id_metric"),
        ),
    )
    op.create_index(
        op.f("ix_measurements_benchmark_id_metric"),
        "measurements",
        ["benchmark_id", "metric"],
        unique=False,
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("benchmark_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('skipped', 'error')", name=op.f("ck_outcomes_status")),
        sa.ForeignKeyConstraint(
            ["benchmark_id"], ["benchmarks.id"], name=op.f("fk_outcomes_benchmark_id_benchmarks")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_outcomes_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("run_id", "benchmark_id", name=op.f("uq_outcomes_run_id_benchmark_id")),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    op.drop_table("measurements")
    op.drop_table("runs")
    op.drop_table("commit_parents")
    op.drop_table("machines")
    op.drop_table("environments")
    op.drop_table("commits")
    op.drop_table("benchmarks")
