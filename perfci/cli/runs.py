"""`perfci runs`: the latest stored runs, or one run's summary."""

from __future__ import annotations

import argparse
from typing import Any

from perfci.cli.common import UsageError, add_db_option
from perfci.report.text import run_summary, runs_table
from perfci.store import open_store
from perfci.store.engine import describe_url
from perfci.store.queries import get_run, list_runs, run_metrics, run_outcomes


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "runs", help="list stored runs, newest first, or show one with --show ID"
    )
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default: 20)")
    parser.add_argument("--show", type=int, metavar="ID", help="print one run's measurements")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    store = open_store(args.db)
    try:
        if args.show is None:
            runs = list_runs(store, args.limit)
            print(runs_table(runs) if runs else f"No runs stored in {describe_url(store.url)}.")
            return 0
        run = get_run(store, args.show)
        if run is None:
            raise UsageError(f"no run {args.show} in {describe_url(store.url)}")
        print(run_summary(run, run_metrics(store, run.id), run_outcomes(store, run.id)))
    finally:
        store.close()
    return 0
