"""`perfci db upgrade` / `perfci db current`: schema management."""

from __future__ import annotations

import argparse
from typing import Any

from perfci.cli.common import add_db_option
from perfci.store import open_store, schema_revision, upgrade_store
from perfci.store.migrate import head_revision


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


def handle_upgrade(args: argparse.Namespace) -> int:
    store = open_store(args.db, upgrade=False)
    try:
        before, after = upgrade_store(store)
    finally:
        store.close()
    if before == after:
        print(f"schema already at {after} (head)")
    else:
        print(f"schema upgraded from {before or 'empty'} to {after}")
    return 0


def handle_current(args: argparse.Namespace) -> int:
    store = open_store(args.db, upgrade=False)
    try:
        current = schema_revision(store)
    finally:
        store.close()
    head = head_revision()
    if current is None:
        print(f"empty database (head is {head}; 'perfci db upgrade' creates the schema)")
    elif current == head:
        print(f"{current} (head)")
    else:
        print(f"{current} (behind head {head}; run 'perfci db upgrade')")
    return 0
