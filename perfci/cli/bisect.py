"""`perfci bisect`: the first bad commit of a range, each step an A/B against the good end."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfci import pytest_args
from perfci.ab.session import parse_duration
from perfci.ab.worktree import rerun_selection
from perfci.bisect.history import Range, RangeError, commit_range
from perfci.bisect.report import json_report, text_report
from perfci.bisect.search import steps_needed
from perfci.bisect.session import Limits, half_change, run_bisection
from perfci.bisect.step import MIN_ROUND_COUNT, Selection, SelectionError, check_collects
from perfci.cli.ab import RESULTS as AB_RESULTS
from perfci.cli.common import UsageError, add_db_option, verdict_config
from perfci.config import Config
from perfci.measure.profiles import DEFAULT_PROFILE, PROFILES
from perfci.results import RunResult
from perfci.store import Store, open_store
from perfci.store.bisect_rows import AlertRange, alert_range, record_bisected
from perfci.store.engine import describe_url
from perfci.store.ingest import ingest_runs

RESULTS = AB_RESULTS  # beside perfci ab's: the runs are A/B runs
MAX_ROUNDS = 30
BUDGET = "30m"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "bisect",
        help="find the first bad commit of a range, each step an A/B against the good end",
        description="Binary search over the first-parent commits after --good up to --bad "
        "(or the range of stored alert ALERT_ID, on its benchmark and metric). Each step "
        "measures the commit nearest the middle against the good end as perfci ab does "
        "(worktrees, fresh pytest processes alternating, paired rounds under the "
        "always-valid stopping rule) on the tests -k selects: a regression makes it bad, "
        "unchanged good; a commit that fails to set up, collect or run is skipped and a "
        "neighbour tried; a step undecided within its rounds and its share of --budget "
        "stops the search. Prints progress on stderr, then `first bad commit: SHA SUBJECT` "
        "(exit 0), or the range narrowed to and why (exit 1); an alert's first bad commit "
        "is stored on it. Every run is stored with trigger ab. Arguments after -- go to "
        "pytest (default target: ./suites). Exit 2 for bad input, nothing stored.",
    )
    parser.add_argument("alert", nargs="?", metavar="ALERT_ID", help="a stored alert with a range")
    parser.add_argument("--good", metavar="REF", help="a commit without the change")
    parser.add_argument("--bad", metavar="REF", help="a commit with it")
    parser.add_argument("-k", dest="select", metavar="SELECTION", help="pytest's -k expression")
    parser.add_argument("--metric", default=None, help="the metric judged (default latency)")
    parser.add_argument(
        "--budget",
        default=BUDGET,
        metavar="DURATION",
        help=f"for the whole search (default {BUDGET})",
    )
    parser.add_argument(
        "--max-rounds", type=int, default=MAX_ROUNDS, metavar="N", help="rounds a step may take"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE)
    parser.add_argument(
        "--min-effect",
        type=float,
        default=None,
        help="m, half the change sought on the log scale, as a fraction (0.05 is 5%%, 1 a "
        "doubling): a step calls a commit bad past 1+m, good once its ratio is under 1+m "
        "and its interval rules out (1+m)^1.25 (default: half an alert's change; else "
        "perfci.toml's min_effect, else compare's default)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _alert_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**31:
        raise UsageError(f"ALERT_ID {text[:40]!r} is not an alert id (a positive number)")
    return int(text)


def _bisectable(alert: AlertRange | None, alert_id: int) -> AlertRange:
    if alert is None:
        raise UsageError(f"no alert {alert_id} in the store")
    if alert.kind == "environment":
        raise UsageError(f"alert {alert_id} is an environment change, not a commit's")
    if alert.shape == "drift":
        raise UsageError(f"alert {alert_id} is a drift: no single commit to find")
    if alert.good is None:
        raise UsageError(f"alert {alert_id} names one commit, {alert.bad[:12]}: no range to bisect")
    return alert


def _targets(args: argparse.Namespace, tests: list[str]) -> tuple[str, ...]:
    """The pytest arguments of a step: the user's after --, with -k, and `tests` when
    they name none (default ./suites)."""
    given = list(args.pytest_args or ())
    options, named = pytest_args.split(given)
    select = ["-k", args.select] if args.select is not None else []
    return (*options, *select, *(named or tests))


def _plan(
    args: argparse.Namespace, store: Store | None, alert_id: int | None, given_effect: float | None
) -> tuple[Range, Selection, AlertRange | None]:
    """The range and what to judge; UsageError for anything that makes no bisection.
    `given_effect`: --min-effect as given (None: an alert's half change, else
    `args.min_effect` as perfci.toml or the default resolved it)."""
    if args.select is not None and not args.select.strip():
        raise UsageError("-k: an empty expression selects every test; name the benchmarks")
    selection = Selection((), args.metric or "latency", profile=args.profile)
    alert = None
    if alert_id is not None:
        assert store is not None
        alert = _bisectable(alert_range(store, alert_id), alert_id)
        if args.metric not in (None, alert.metric):
            raise UsageError(f"alert {alert.id} is on {alert.metric}, not --metric {args.metric}")
        good, bad = str(alert.good), alert.bad
        selection = replace(
            selection,
            pytest_args=_targets(args, [rerun_selection(alert.suite, alert.name)]),
            metric=alert.metric,
            kind=alert.kind,
            benchmark=(f"{alert.suite}::{alert.name}", alert.params),
            min_effect=half_change(alert.magnitude) if given_effect is None else given_effect,
        )
    else:
        if not (args.good and args.bad):
            raise UsageError("give --good REF and --bad REF (or an ALERT_ID)")
        if args.select is None:
            raise UsageError("-k SELECTION: name the benchmarks to bisect on")
        good, bad = args.good, args.bad
        selection = replace(
            selection,
            pytest_args=_targets(args, ["suites"]),
            min_effect=args.min_effect if given_effect is None else given_effect,
        )
    try:
        commits = commit_range(Path.cwd(), good, bad)
    except RangeError as exc:
        raise UsageError(str(exc)) from None
    return commits, selection, alert


def handle(args: argparse.Namespace) -> int:
    if args.max_rounds < MIN_ROUND_COUNT:
        raise UsageError(f"--max-rounds must be at least {MIN_ROUND_COUNT}: fewer decide nothing")
    try:
        budget = parse_duration(args.budget)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None
    if args.alert is not None and (args.good or args.bad):
        raise UsageError("give ALERT_ID or --good and --bad, not both")
    alert_id = None if args.alert is None else _alert_id(args.alert)
    given_effect = args.min_effect
    if given_effect is not None and not (math.isfinite(given_effect) and given_effect > 0):
        raise UsageError("--min-effect must be above 0, e.g. 0.05 (5%) or 1 (a doubling)")
    args.min_effect = None  # perfci.toml's, else the default, checked
    config = verdict_config(args)
    store = open_store(args.db) if alert_id is not None else None
    try:
        commits, selection, alert = _plan(args, store, alert_id, given_effect)
        try:
            check_collects(
                Path.cwd(), commits.good.sha, commits.bad.sha, selection, config.ab_setup
            )
        except SelectionError as exc:
            raise UsageError(str(exc)) from None
        store = store or open_store(args.db)
        return _bisect(args, store, config, (commits, selection, alert), budget)
    finally:
        if store is not None:
            store.close()


def _bisect(
    args: argparse.Namespace,
    store: Store,
    config: Config,
    plan: tuple[Range, Selection, AlertRange | None],
    budget: float,
) -> int:
    commits, selection, alert = plan
    out = RESULTS / f"bisect-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
    stored: list[int] = []

    def keep(runs: list[RunResult]) -> None:
        stored.append(len(ingest_runs(store, runs)))

    _progress(
        f"at most {steps_needed(len(commits.commits))} step(s) on {selection.metric}, "
        f"{selection.kind} sought at a minimum effect of {selection.min_effect:.1%}"
    )
    try:
        found, elapsed = run_bisection(
            Path.cwd(), commits, selection, config, Limits(args.max_rounds, budget),
            out, keep, _progress,
        )  # fmt: skip
    except SelectionError as exc:
        raise UsageError(str(exc)) from None
    if alert is not None and found.first_bad is not None:
        record_bisected(store, alert.id, found.first_bad.sha)
        _progress(f"alert {alert.id}: bisected to {found.first_bad.sha[:12]}")
    if args.format == "json":
        print(json_report(found, selection, elapsed, None if alert is None else alert.id))
    else:
        print(text_report(found, selection, elapsed))
    _progress(f"stored {sum(stored)} A/B run(s) in {describe_url(store.url)}; results in {out}")
    return 0 if found.first_bad is not None else 1


def _progress(line: str) -> None:
    print(f"perfci bisect: {line}", file=sys.stderr, flush=True)
