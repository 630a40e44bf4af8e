"""Alembic environment: perfci hands in an open connection inside one transaction."""

from __future__ import annotations

from alembic import context

from perfci.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("perfci's migrations run through 'perfci db upgrade' (or opening a store)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copy-and-move
    compare_type=True,
    transaction_per_migration=False,  # all pending revisions succeed or none do
)
with context.begin_transaction():
    context.run_migrations()
