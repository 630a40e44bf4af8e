"""`perfci rebuild --from DIR`: recreate the store from the kept results files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError, add_db_option
from perfci.store import open_store
from perfci.store.importers import load_results_file
from perfci.store.ingest import ingest_runs


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rebuild",
        help="store every results file under a folder (e.g. the perfci-data branch)",
        description="Reads every *.json under DIR (perfci or pytest-benchmark JSON), checks "
        "them all, then stores them in one transaction, oldest file name first. Runs already "
        "stored are skipped, so rebuilding twice changes nothing.",
    )
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if not args.source.is_dir():
        raise UsageError(f"{args.source} is not a folder")
    files = sorted(p for p in args.source.rglob("*.json") if ".git" not in p.parts)
    if not files:
        raise UsageError(f"no results files (*.json) under {args.source}")
    results = [load_results_file(f) for f in files]
    for path, result in zip(files, results, strict=True):
        if result.commit is None:
            raise UsageError(f"{path}: no commit recorded")
    store = open_store(args.db)
    try:
        stored = ingest_runs(store, results)
    finally:
        store.close()
    created = sum(1 for s in stored if s.created)
    print(f"{created} runs stored, {len(stored) - created} already there, from {len(files)} files")
    return 0
