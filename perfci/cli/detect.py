"""`perfci detect SERIES.csv...`: change points in plain series, many files in one call;
`perfci detect --db URL [--branch main]`: history mode on the store, updating its alerts."""

from __future__ import annotations

import argparse
import csv
import json
import math
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.alerts import RECHECK, AlertRow, AlertsError, SeriesState, check_history
from perfci.cli.common import UsageError, add_db_option
from perfci.config import ConfigError, load_config
from perfci.limits import COMMIT_TEXT, FIGURE_MAX, FIGURE_MIN, LimitError, check_text, is_figure
from perfci.stats.changepoint import (
    MIN_AFTER,
    MIN_BEFORE,
    ChangePoint,
    Coverage,
    SeriesError,
    analyse,
)

FORMAT_VERSION = 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "detect",
        help="change points in plain series (CSV files), or along a branch in the store",
        description="Finds change points in each CSV file: one row per run, oldest first, a "
        "`value` column of positive numbers and an optional `commit` column. A change's "
        "index is the 0-based row of the first value after it; a slow drift is said to be "
        "one, with the row it began at. Rows with the same commit are runs of one commit: "
        f"a change lies between commits. A change needs {MIN_BEFORE} values of its "
        f"segment before it and {MIN_AFTER} after: each file says at which rows a change "
        "can be judged, and how many more values a series too short to judge needs. Exit "
        "status 2 for a file that cannot be read (nothing is printed then). Without files: "
        "history mode on the store (--db): every series (benchmark, metric, machine) along "
        "the first-parent history of --branch is checked, one value per run, new change "
        "points and environment changes are stored as alerts, and the branch's alerts are "
        "printed, with the series too short to judge yet.",
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
    """The `value` (and `commit`) columns of a CSV file; UsageError with the reason. Only
    a regular file is opened (a FIFO would block); a value must be a figure the
    detector's logarithms and ratios can hold (perfci.limits.is_figure)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise UsageError(f"{path}: not a regular file")
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
            value = float(row["value"] or "")
        except ValueError:
            raise UsageError(f"{path}: line {number}: {row['value']!r} is not a number") from None
        if math.isfinite(value) and not is_figure(value):  # the detector names the others
            raise UsageError(
                f"{path}: line {number}: {row['value']!r} is not zero nor of a magnitude "
                f"between {FIGURE_MIN:g} and {FIGURE_MAX:g}"
            )
        values.append(value)
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
        "id": a.id,
        "bisected_to": a.bisected,
    }


def _state_dict(state: SeriesState) -> dict[str, Any]:
    return {
        "benchmark": state.benchmark,
        "metric": state.metric,
        "machine": state.machine,
        "runs": state.runs,
        "segment_runs": state.segment_runs,
        "since": state.since,
        "opened_by": state.opened_by,
        "status": "too short" if state.too_short else "ok",
        "needs": state.needs,
    }


_NEEDS = f"a change needs at least {MIN_BEFORE} runs before it and {MIN_AFTER} after"


def _runs(n: int) -> str:
    return f"{n} run" + ("" if n == 1 else "s")


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def _too_short_lines(states: list[SeriesState]) -> list[str]:
    """The series too short to judge: a total, then one line each."""
    short = [s for s in states if s.too_short]
    if not short:
        return []
    runs = [s.segment_runs for s in short]
    each = f"{_runs(runs[0])} each, " if len(set(runs)) == 1 else ""
    more = _span([s.needs for s in short])
    lines = [f"{len(short)} series too short to judge: {each}{_NEEDS}; {more} more runs"]
    since = {"environment": "since the environment changed at", "alert": "since the alert at"}
    for s in short:
        where = f" {since[s.opened_by]} {s.since[:10]}" if s.opened_by in since else ""
        lines.append(
            f"  {s.benchmark} {s.metric} on {s.machine}: {_runs(s.segment_runs)}{where}; "
            f"{s.needs} more {'run' if s.needs == 1 else 'runs'}"
        )
    return lines


def handle_store(args: argparse.Namespace) -> int:
    from perfci.store import open_store

    try:
        check_text(args.branch, "--branch", COMMIT_TEXT["branch"])
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    try:
        config = load_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    store = open_store(args.db)
    try:
        recheck = None if args.full else RECHECK
        history = check_history(store, args.branch, config=config, recheck=recheck)
    except AlertsError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    alerts, states = history.alerts, history.series
    short = sum(s.too_short for s in states)
    if args.format == "json":
        doc = {
            "format_version": FORMAT_VERSION,
            "alerts": [_alert_dict(a) for a in alerts],
            "series": [_state_dict(s) for s in states],
            "too_short": short,
            "min_before": MIN_BEFORE,
            "min_after": MIN_AFTER,
        }
        print(json.dumps(doc, indent=1))
        return 0
    fresh = sum(a.new for a in alerts)
    print(
        f"branch {args.branch}: {len(alerts)} alert(s), {fresh} new; {len(states)} series "
        f"checked, {short} too short to judge"
    )
    for a in alerts:
        where = (
            f"{a.last_good_commit[:10]}..{a.commit[:10]}" if a.last_good_commit else a.commit[:10]
        )
        if a.shape == "drift" and a.last_good_commit:
            where = f"{a.commit[:10]}, drifting since {a.last_good_commit[:10]}"
        mark = " (new)" if a.new else ""
        why = f" — {a.reason}" if a.reason else ""
        found = f", bisected to {a.bisected[:10]}" if a.bisected else ""
        print(
            f"  #{a.id} {a.kind} ×{a.magnitude:.3f} at {where}{found}: {a.benchmark} "
            f"{a.metric} on {a.machine} [{a.status}]{why}{mark}"
        )
    for line in _too_short_lines(states):
        print(line)
    return 0


def _coverage_dict(c: Coverage) -> dict[str, Any]:
    return {
        "judged": [list(r) for r in c.judged],
        "segment_start": c.start,
        "pending": [[row, c.more(row)] for row in c.pending],
        "segment_judged": c.open_judged,
        "needs": c.needs,
    }


def _rows(rows: list[int] | tuple[int, ...]) -> str:
    """Rows as runs of consecutive ones: `12-27, 30, 33`."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _more(n: int) -> str:
    return f"{n} more value" + ("" if n == 1 else "s")


def _coverage_text(c: Coverage, grouped: bool) -> str:
    """What a file's series was judged for, after its count of change points."""
    need = f"a change needs {MIN_BEFORE} values of its segment before it and {MIN_AFTER} after"
    if grouped:
        need += ", between commits"
    judged = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in c.judged)
    only = " only" if len(c.judged) == 1 else ""
    if c.needs:
        return (
            f"; judged at rows {judged}{only} ({need}); nothing since row {c.start} can be "
            f"judged yet: {_more(c.needs)}"
        )
    pending = ""
    if c.pending:
        more = sorted({c.more(row) for row in c.pending})
        span = str(more[0]) if len(more) == 1 else f"{more[0]}-{more[-1]}"
        one = len(c.pending) == 1
        pending = (
            f"; {'row' if one else 'rows'} {_rows(c.pending)} {'needs' if one else 'need'} "
            f"{span} more {'value' if more == [1] else 'values'}"
        )
    return f"; judged at rows {judged}{only} ({need}{pending})"


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
            analysis = analyse(series.values, args.direction, groups=series.commits)
        except SeriesError as exc:
            raise UsageError(f"{path}: {str(exc).removeprefix('series: ')}") from None
        found.append((series, analysis.changes, analysis.coverage))
    if args.format == "json":
        doc = {
            "format_version": FORMAT_VERSION,
            "series": [
                {
                    "file": str(s.path),
                    "n": len(s.values),
                    "status": "too short" if c.too_short else "ok",
                    "change_points": [_change(s, p) for p in changes],
                    **_coverage_dict(c),
                }
                for s, changes, c in found
            ],
            "too_short": sum(c.too_short for _, _, c in found),
            "min_before": MIN_BEFORE,
            "min_after": MIN_AFTER,
        }
        print(json.dumps(doc, indent=1))
        return 0
    for s, changes, c in found:
        if c.too_short:
            print(
                f"{s.path}: {len(s.values)} values, too short to judge: a change needs at "
                f"least {MIN_BEFORE} values before it and {MIN_AFTER} after; " + _more(c.needs)
            )
            continue
        print(
            f"{s.path}: {len(s.values)} values, {len(changes)} change point(s)"
            + _coverage_text(c, s.commits is not None)
        )
        for p in changes:
            d = _change(s, p)
            where = f" (commit {d['commit']})" if d["commit"] else ""
            drift = f", a drift from row {p.start} on" if p.shape == "drift" else ""
            print(f"  row {p.index}{where}: {p.kind}, ×{p.ratio:.3f}{drift}")
    short = sum(c.too_short for _, _, c in found)
    if len(found) > 1 and short:
        print(f"{short} of {len(found)} series too short to judge")
    return 0
