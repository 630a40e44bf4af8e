"""`perfci rebuild --from DIR`: recreate the store from the kept results files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError, add_db_option, read_results
from perfci.results import ResultsError, RunResult
from perfci.store import open_store
from perfci.store.ingest import ingest_runs


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rebuild",
        help="store every results file under a folder (e.g. the perfci-data branch)",
        description="Reads every *.json under DIR (perfci or pytest-benchmark JSON), checks "
        "them all, then stores them in one transaction, oldest file name first. A file that "
        "cannot be read or has no commit is named on stderr and skipped; the others are "
        "stored. Runs already stored are skipped, so rebuilding twice changes nothing.",
    )
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _readable(files: list[Path]) -> tuple[list[RunResult], int]:
    """The runs of the files that parse and name their commit; each other file is one
    line on stderr. Returns the runs and how many files were skipped."""
    results, skipped = [], 0
    for path in files:
        try:
            result = read_results(path)
            if result.commit is None:
                raise ResultsError(f"{path}: no commit recorded")
        except ResultsError as exc:
            print(f"perfci: skipping {exc}", file=sys.stderr)
            skipped += 1
            continue
        results.append(result)
    return results, skipped


def handle(args: argparse.Namespace) -> int:
    if not args.source.is_dir():
        raise UsageError(f"{args.source} is not a folder")
    files = sorted(p for p in args.source.rglob("*.json") if ".git" not in p.parts)
    if not files:
        raise UsageError(f"no results files (*.json) under {args.source}")
    results, skipped = _readable(files)
    store = open_store(args.db)
    try:
        stored = ingest_runs(store, results)
    finally:
        store.close()
    created = sum(1 for s in stored if s.created)
    unread = f", {skipped} skipped (see above)" if skipped else ""
    print(
        f"{created} runs stored, {len(stored) - created} already there{unread}, "
        f"from {len(files)} files"
    )
    return 0
