"""Schema management: open-and-upgrade in one transaction; refuse databases from the future."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

from perfci.paths import migrations_dir
from perfci.store.engine import StoreError, write_transaction


def alembic_config(connection: Connection | None = None, scripts: Path | None = None) -> Config:
    """Alembic's configuration; `scripts` replaces the shipped migrations folder (tests)."""
    config = Config()
    config.set_main_option("script_location", str(scripts or migrations_dir()))
    config.attributes["connection"] = connection
    return config


def head_revision(scripts: Path | None = None) -> str:
    head = ScriptDirectory.from_config(alembic_config(scripts=scripts)).get_current_head()
    assert head is not None, "perfci ships at least one migration"
    return head


def current_revision(connection: Connection, scripts: Path | None = None) -> str | None:
    """The database's schema revision, None for an empty database; refuses a newer one."""
    heads = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(alembic_config(scripts=scripts))
    for rev in heads:
        try:
            known = script.get_revision(rev)
        except CommandError:
            known = None
        if known is None:
            raise StoreError(
                f"the database is at schema revision {rev}, which this perfci does not know: "
                "it was written by a newer perfci; upgrade perfci to use it"
            )
    if len(heads) > 1:
        raise StoreError(f"the database has several schema heads ({', '.join(heads)})")
    return heads[0] if heads else None


def _lock_for_upgrade(connection: Connection) -> None:
    # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock so
    # two runners opening a new store at once do not both create the tables.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7271746)")  # "perfci"


def upgrade(
    engine: Engine, revision: str = "head", scripts: Path | None = None
) -> tuple[str | None, str | None]:
    """Upgrade to `revision` in one transaction; returns (before, after). On any failure the
    database is left exactly as it was."""
    with write_transaction(engine) as conn:
        _lock_for_upgrade(conn)
        before = current_revision(conn, scripts)
        target = head_revision(scripts) if revision == "head" else revision
        if before != target:
            command.upgrade(alembic_config(conn, scripts), revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after


def ensure_current(engine: Engine) -> None:
    """Bring the schema to head when it is behind (the cheap check first)."""
    with engine.connect() as conn:
        if current_revision(conn) == head_revision():
            return
    upgrade(engine)
