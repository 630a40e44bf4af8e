"""Alerts get a shape: a step at one commit, or a drift over a range of commits.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite adds a check constraint only by rebuilding the table
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("shape", sa.String(length=8), nullable=False, server_default="step")
        )
        batch.create_check_constraint(op.f("ck_alerts_shape"), "shape IN ('step', 'drift')")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(op.f("ck_alerts_shape"), type_="check")
        batch.drop_column("shape")
