"""`perfci runs`: the latest stored runs, or one run's summary with its backends side by
side."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from perfci.backends.sidebyside import Timing, WorkloadTable, side_by_side
from perfci.cli.common import UsageError, add_db_option
from perfci.report.text import format_value, params_text, run_summary, runs_table, table
from perfci.store import open_store
from perfci.store.engine import describe_url
from perfci.store.queries import MetricRow, get_run, list_runs, run_metrics, run_outcomes


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
        metrics = run_metrics(store, run.id)
        print(run_summary(run, metrics, run_outcomes(store, run.id)))
        tables = side_by_side(timings(metrics))
        if tables:
            print(backends_text(tables))
    finally:
        store.close()
    return 0


def timings(metrics: Sequence[MetricRow]) -> list[Timing]:
    """Each benchmark's median latency in a run's metrics."""
    return [Timing(m.suite, m.name, m.params, m.median) for m in metrics if m.metric == "latency"]


def backends_text(tables: Sequence[WorkloadTable]) -> str:
    """Each workload measured on more than one backend: its backends fastest first, each
    with its median latency and its ratio to the fastest."""
    parts = [f"Backends side by side ({len(tables)} workloads, fastest first):"]
    for t in tables:
        rows = [
            [
                e.label,
                format_value(e.latency, "s"),
                "fastest" if e.fastest else f"{e.ratio:.2f}x",
            ]
            for e in t.entries
        ]
        shared = params_text(t.shared)
        parts.append(f"{t.name}{f' [{shared}]' if shared else ''}")
        parts.append(table(["backend", "median", "vs fastest"], rows))
    return "\n".join(parts)
