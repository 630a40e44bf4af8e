"""`perfci db upgrade` / `perfci db current`: schema management."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from perfci.cli.common import UsageError, add_db_option
from perfci.store.engine import describe_url, make_engine, resolve_url
from perfci.store.migrate import current_revision, head_revision, upgrade


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "db", help="schema management: upgrade, current"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("upgrade", help="bring the schema to this perfci's version")
    add_db_option(up)
    up.set_defaults(handler=handle_upgrade)
    current = actions.add_parser("current", help="print the schema revision (changes nothing)")
    add_db_option(current)
    current.set_defaults(handler=handle_current)


@contextmanager
def _engine(url: str | None) -> Iterator[Engine]:
    """The store's engine; a database that cannot be reached is one line for the user."""
    resolved = resolve_url(url)
    engine = make_engine(resolved)
    try:
        yield engine
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise UsageError(f"cannot open the store at {describe_url(resolved)}: {reason}") from None
    finally:
        engine.dispose()


def handle_upgrade(args: argparse.Namespace) -> int:
    with _engine(args.db) as engine:
        before, after = upgrade(engine)
    if before == after:
        print(f"schema already at {after} (head)")
    else:
        print(f"schema upgraded from {before or 'empty'} to {after}")
    return 0


def handle_current(args: argparse.Namespace) -> int:
    with _engine(args.db) as engine, engine.connect() as conn:
        current = current_revision(conn)
    head = head_revision()
    if current is None:
        print(f"empty database (head is {head}; 'perfci db upgrade' creates the schema)")
    elif current == head:
        print(f"{current} (head)")
    else:
        print(f"{current} (behind head {head}; run 'perfci db upgrade')")
    return 0
