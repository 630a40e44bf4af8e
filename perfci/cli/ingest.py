"""`perfci ingest FILE...`: store results files (perfci or pytest-benchmark JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from perfci.cli.common import (
    add_commit_options,
    add_db_option,
    apply_commit_options,
    read_results,
)
from perfci.store import open_store
from perfci.store.ingest import ingest_runs


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "ingest",
        help="store results files: perfci JSON or pytest-benchmark JSON (told apart by content)",
        description="Store results files in one transaction: every file, or none if any is bad. "
        "A run already stored is not stored again.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_commit_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # Every file is read and checked before the store is touched.
    results = [apply_commit_options(read_results(f), args, str(f)) for f in args.files]
    store = open_store(args.db)
    try:
        stored = ingest_runs(store, results)
    finally:
        store.close()
    for path, outcome in zip(args.files, stored, strict=True):
        if outcome.created:
            print(f"{path}: stored as run {outcome.run_id} ({outcome.measurements} measurements)")
        else:
            print(f"{path}: already stored as run {outcome.run_id}")
    return 0
