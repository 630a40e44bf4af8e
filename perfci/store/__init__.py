"""The results store: SQLAlchemy models, engine, migrations, writers and queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from perfci.store.engine import StoreError, describe_url, make_engine, resolve_url
from perfci.store.migrate import current_revision, ensure_current
from perfci.store.migrate import upgrade as upgrade_schema


@dataclass(frozen=True)
class Store:
    url: str
    engine: Engine

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open the store at `url` (see `resolve_url`), bringing its schema up to date first.

    Refuses, with StoreError, a database written by a newer perfci or one it cannot reach.
    With `upgrade=False` nothing is touched until the store is used.
    """
    resolved = resolve_url(url)
    engine = make_engine(resolved)
    try:
        if upgrade:
            with _reaching(resolved):
                ensure_current(engine)
    except StoreError:
        engine.dispose()
        raise
    return Store(resolved, engine)


def schema_revision(store: Store) -> str | None:
    """The store's schema revision (None for an empty database), changing nothing;
    StoreError for one written by a newer perfci or one that cannot be reached."""
    with _reaching(store.url), store.engine.connect() as conn:
        return current_revision(conn)


def upgrade_store(store: Store) -> tuple[str | None, str | None]:
    """Upgrade the schema to head in one transaction; returns (before, after)."""
    with _reaching(store.url):
        return upgrade_schema(store.engine)


@contextmanager
def _reaching(url: str) -> Iterator[None]:
    """A driver's connection, permission or not-a-database error as one line."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(
            f"cannot open the store at {describe_url(url)}: {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["Store", "StoreError", "open_store", "schema_revision", "upgrade_store"]
