"""`perfci detect SERIES.csv...`: change points in plain series, many files in one call;
`perfci detect --db URL [--branch main]`: history mode on the store, updating its alerts."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.alerts import RECHECK, AlertRow, AlertsError, update_alerts
from perfci.cli.common import UsageError, add_db_option
from perfci.config import ConfigError, load_config
from perfci.stats.changepoint import MIN_AFTER, MIN_BEFORE, ChangePoint, SeriesError, detect

FORMAT_VERSION = 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "detect",
        help="change points in plain series (CSV files), or along a branch in the store",
        description="Finds change points in each CSV file: one row per run, oldest first, a "
        "`value` column of positive numbers and an optional `commit` column. A change's "
        "index is the 0-based row of the first value after it; a slow drift is said to be "
        "one, with the row it began at. Exit status 2 for a file "
        "that cannot be read (nothing is printed then). Without files: history mode on the "
        "store (--db): every series (benchmark, metric, machine) along the first-parent "
        "history of --branch is checked, new change points and environment changes are "
        "stored as alerts, and the branch's alerts are printed.",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="SERIES.csv")
    add_db_option(parser)
    parser.add_argument("--branch", default="main", help="history mode: the branch (main)")
    parser.add_argument("--direction", choices=("lower", "higher"), default="lower")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--full",
        action="store_true",
        help="history mode: replay every run of every series, as if each had been checked "
        "when it arrived (for a store rebuilt from results files); by default only the "
        "newest runs are re-checked",
    )
    parser.set_defaults(handler=handle)


@dataclass(frozen=True)
class Series:
    path: Path
    values: list[float]
    commits: list[str] | None


def read_series(path: Path) -> Series:
    """The `value` (and `commit`) columns of a CSV file; UsageError with the reason."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "value" not in reader.fieldnames:
                raise UsageError(f"{path}: no `value` column")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from exc
    values = []
    for number, row in enumerate(rows, start=2):
        try:
            values.append(float(row["value"] or ""))
        except ValueError:
            raise UsageError(f"{path}: line {number}: {row['value']!r} is not a number") from None
    if not values:
        raise UsageError(f"{path}: no values")
    has_commit = "commit" in (reader.fieldnames or [])
    return Series(path, values, [r["commit"] or "" for r in rows] if has_commit else None)


def _change(series: Series, c: ChangePoint) -> dict[str, Any]:
    commit = series.commits[c.index] if series.commits else None
    return {
        "index": c.index,
        "kind": c.kind,
        "ratio": round(c.ratio, 6),
        "commit": commit,
        "shape": c.shape,
        "start": c.start if c.shape == "drift" else None,  # the row the drift began at
    }


def _alert_dict(a: AlertRow) -> dict[str, Any]:
    return {
        "benchmark": a.benchmark,
        "metric": a.metric,
        "machine": a.machine,
        "commit": a.commit,
        "last_good_commit": a.last_good_commit,
        "kind": a.kind,
        "shape": a.shape,
        "magnitude": round(a.magnitude, 6),
        "status": a.status,
        "reason": a.reason,
        "new": a.new,
    }


def handle_store(args: argparse.Namespace) -> int:
    from perfci.store import open_store

    try:
        config = load_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    store = open_store(args.db)
    try:
        recheck = None if args.full else RECHECK
        alerts = update_alerts(store, args.branch, config=config, recheck=recheck)
    except AlertsError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    if args.format == "json":
        doc = {"format_version": FORMAT_VERSION, "alerts": [_alert_dict(a) for a in alerts]}
        print(json.dumps(doc, indent=1))
        return 0
    fresh = sum(a.new for a in alerts)
    print(f"branch {args.branch}: {len(alerts)} alert(s), {fresh} new")
    for a in alerts:
        where = (
            f"{a.last_good_commit[:10]}..{a.commit[:10]}" if a.last_good_commit else a.commit[:10]
        )
        if a.shape == "drift" and a.last_good_commit:
            where = f"{a.commit[:10]}, drifting since {a.last_good_commit[:10]}"
        mark = " (new)" if a.new else ""
        why = f" — {a.reason}" if a.reason else ""
        print(
            f"  {a.kind} ×{a.magnitude:.3f} at {where}: {a.benchmark} {a.metric} on "
            f"{a.machine} [{a.status}]{why}{mark}"
        )
    return 0


def handle(args: argparse.Namespace) -> int:
    if not args.files:
        return handle_store(args)
    if args.db is not None:
        raise UsageError("give either SERIES.csv files or --db, not both")
    if args.full:
        raise UsageError("--full is for history mode on the store, not for SERIES.csv files")
    found = []
    for path in args.files:  # read and check every file before printing anything
        series = read_series(path)
        try:
            changes = detect(series.values, args.direction)
        except SeriesError as exc:
            raise UsageError(f"{path}: {str(exc).removeprefix('series: ')}") from None
        found.append((series, changes))
    short = MIN_BEFORE + MIN_AFTER
    if args.format == "json":
        doc = {
            "format_version": FORMAT_VERSION,
            "series": [
                {
                    "file": str(s.path),
                    "n": len(s.values),
                    "status": "ok" if len(s.values) >= short else "too short",
                    "change_points": [_change(s, c) for c in changes],
                }
                for s, changes in found
            ],
        }
        print(json.dumps(doc, indent=1))
        return 0
    for s, changes in found:
        if len(s.values) < short:
            print(f"{s.path}: {len(s.values)} values, too short to tell (need {short})")
            continue
        print(f"{s.path}: {len(s.values)} values, {len(changes)} change point(s)")
        for c in changes:
            d = _change(s, c)
            where = f" (commit {d['commit']})" if d["commit"] else ""
            drift = f", a drift from row {c.start} on" if c.shape == "drift" else ""
            print(f"  row {c.index}{where}: {c.kind}, ×{c.ratio:.3f}{drift}")
    return 0
