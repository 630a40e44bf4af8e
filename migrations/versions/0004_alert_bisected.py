"""Alerts get the commit a bisection found: the first bad commit of the alert's range.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite adds a foreign key only by rebuilding the table
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("bisected_commit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_alerts_bisected_commit_id_commits"), "commits", ["bisected_commit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(op.f("fk_alerts_bisected_commit_id_commits"), type_="foreignkey")
        batch.drop_column("bisected_commit_id")
