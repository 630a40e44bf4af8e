"""The results store: SQLAlchemy models, engine, migrations, writers and queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from perfci.store.engine import StoreError, describe_url, make_engine, resolve_url
from perfci.store.migrate import ensure_current


@dataclass(frozen=True)
class Store:
    url: str
    engine: Engine

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open the store at `url` (see `resolve_url`), bringing its schema up to date first.

    Refuses, with StoreError, a database written by a newer perfci or one it cannot reach.
    """
    resolved = resolve_url(url)
    engine = make_engine(resolved)
    try:
        if upgrade:
            ensure_current(engine)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:  # a driver's connection or permission error: one line for the user
        engine.dispose()
        raise StoreError(
            f"cannot open the store at {describe_url(resolved)}: {_first_line(exc)}"
        ) from exc
    return Store(resolved, engine)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["Store", "StoreError", "open_store"]
