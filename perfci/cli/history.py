"""`perfci history NAME`: one benchmark's metric across stored runs."""

from __future__ import annotations

import argparse
from typing import Any

from perfci.cli.common import UsageError, add_db_option
from perfci.limits import BENCHMARK_TEXT, METRIC_TEXT, LimitError, check_text
from perfci.report.text import history_table
from perfci.store import open_store
from perfci.store.queries import history


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "history", help="a benchmark's metric across runs, oldest first"
    )
    parser.add_argument("name", help="benchmark name, or SUITE::NAME")
    parser.add_argument("--metric", default="latency", help="metric (default: latency)")
    parser.add_argument("--limit", type=int, default=50, help="how many runs (default: 50)")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    suite, _, name = args.name.rpartition("::")
    try:  # text the store could hold: a lone surrogate cannot even be sent to it
        check_text(name, "NAME", BENCHMARK_TEXT["name"])
        check_text(suite, "NAME's suite", BENCHMARK_TEXT["suite"])
        check_text(args.metric, "--metric", METRIC_TEXT["name"])
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    store = open_store(args.db)
    try:
        rows = history(store, args.name, args.metric, args.limit)
    finally:
        store.close()
    if not rows:
        raise UsageError(f"no {args.metric} measurements of {args.name!r} are stored")
    print(history_table(rows))
    return 0
