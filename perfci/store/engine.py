"""Engines for the store: SQLite by default (WAL, busy timeout), any SQLAlchemy URL otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

DEFAULT_URL = "sqlite:///.perfci/perfci.db"
BUSY_TIMEOUT_MS = 60_000  # several runners' ingests queue rather than fail


class StoreError(Exception):
    """The store cannot be used as asked; the message is one line for the user."""


def resolve_url(url: str | None) -> str:
    """--db, else $PERFCI_DB, else the SQLite file under .perfci/."""
    return url or os.environ.get("PERFCI_DB") or DEFAULT_URL


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL (None for other databases and in-memory SQLite)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def sqlite_file(url_text: str) -> Path | None:
    """The file behind the SQLite URL `url_text` (None for other databases and in-memory
    SQLite); StoreError for text that is not a database URL."""
    try:
        return sqlite_path(make_url(url_text))
    except ArgumentError as exc:
        raise StoreError(f"cannot use database URL {url_text!r}: {exc}") from None


def describe_url(url_text: str) -> str:
    """For messages: a SQLite file's absolute path, any other URL without its password."""
    url = make_url(url_text)
    path = sqlite_path(url)
    return str(path.resolve()) if path is not None else url.render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine, wal: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and commits before DDL; take it
    # over so a migration is one transaction and writers queue with BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:  # readers never wait for the writer; a crash loses no committed run
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("perfci_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url_text: str) -> Engine:
    """An engine for `url_text`; a SQLite file's folder is created and the file put in WAL mode."""
    try:
        url = make_url(url_text)
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StoreError(f"cannot use database URL {url_text!r}: {exc}") from exc
    except ImportError as exc:
        raise StoreError(
            f"the driver for {url_text!r} is not installed ({exc}); for PostgreSQL: "
            "pip install 'perfci[postgres]' and use postgresql+psycopg://..."
        ) from exc
    except OSError as exc:
        raise StoreError(f"cannot create the folder for {url_text!r}: {exc}") from exc
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, wal=path is not None)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that writes: BEGIN IMMEDIATE on SQLite, so concurrent writers wait
    for each other (busy timeout) instead of failing on a lock upgrade."""
    with engine.connect() as conn:
        conn = conn.execution_options(perfci_write=True)
        with conn.begin():
            yield conn
