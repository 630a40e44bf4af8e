"""`perfci confirm`: suspected changes on a branch measured again, then judged by a paired
test of the rounds and by the detector on all the evidence."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfci.ab.session import ABError, Plan, parse_duration
from perfci.ab.worktree import SideError
from perfci.alerts import AlertsError
from perfci.cli.common import UsageError, add_db_option
from perfci.config import ConfigError, load_config
from perfci.confirm import (
    ROUNDS,
    TRIGGER,
    Measured,
    Verdict,
    decide,
    describe,
    find_suspicions,
    measurable_here,
    measure_pairs,
)
from perfci.limits import COMMIT_TEXT, LimitError, check_text
from perfci.measure.profiles import DEFAULT_PROFILE, PROFILES
from perfci.stats.confirmation import LEVEL, MIN_ROUNDS, PairedEvidence
from perfci.stats.suspect import SUSPECT_AFTER, SUSPECT_MARGIN
from perfci.store import open_store

FORMAT_VERSION = 1
RESULTS = Path(".perfci/confirm/results")
BUDGET = "20m"
MAX_ROUNDS = 50


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "confirm",
        help="measure suspected changes on a branch again, then test and detect on all of it",
        description="Runs history mode on --branch, then looks for series whose newest runs "
        "look changed but not yet significantly (the detector's statistic within "
        f"{SUSPECT_MARGIN:g} of its threshold, at most {SUSPECT_AFTER} runs after the "
        "change). For each, the last commit before the suspected change and the newest "
        "commit are checked out as git worktrees and measured again in fresh pytest "
        f"processes, interleaved (ABBA BAAB …), for --rounds rounds (default {ROUNDS}). "
        "The rounds' paired log ratios are tested one-sided in the suspected direction "
        f"(t-test at {LEVEL:g}); only when they support the change are the series' runs "
        f"stored as history (trigger {TRIGGER}) and the detector run again on all of it: "
        "the alert is raised, or the suspicion dropped. Runs that do not support it are "
        "stored as A/B runs (trigger ab, not history). A suspected change is measured "
        "again once. Exit status 2 for bad input or a side that cannot be set up or run "
        "(nothing stored).",
    )
    add_db_option(parser)
    parser.add_argument("--branch", default="main", help="the branch (default main)")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, metavar="N", help=f"rounds a pair (default {ROUNDS})"
    )
    parser.add_argument(
        "--budget",
        default=BUDGET,
        metavar="DURATION",
        help=f"no pair is started that would not fit it, e.g. 90s, 20m (default {BUDGET})",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=handle)


def _plan(args: argparse.Namespace) -> Plan:
    if not MIN_ROUNDS <= args.rounds <= MAX_ROUNDS:
        raise UsageError(f"--rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS}")
    try:
        budget = parse_duration(args.budget)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None
    try:
        check_text(args.branch, "--branch", COMMIT_TEXT["branch"])
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    return Plan((), args.profile, args.rounds, args.rounds, budget)


def handle(args: argparse.Namespace) -> int:
    plan = _plan(args)
    try:
        config = load_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    store = open_store(args.db)
    try:
        try:
            suspicions = find_suspicions(store, args.branch, config)
        except AlertsError as exc:
            raise UsageError(str(exc)) from None
        left_out = measurable_here(suspicions)
        out = _results_folder()
        try:
            measured, late = measure_pairs(
                Path.cwd(), [s for s in suspicions if s not in left_out], plan, config, out,
                _progress,
            )  # fmt: skip
        except (SideError, ABError) as exc:
            raise UsageError(str(exc)) from None
        verdicts = decide(store, args.branch, config, suspicions, measured, {**left_out, **late})
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(_document(args, verdicts, measured), indent=1))
    else:
        print(_text(args.branch, verdicts, measured))
    return 0


def _results_folder() -> Path:
    """This call's folder of results files; a `.gitignore` of `*` keeps them out of the
    checkout's `git status`, as perfci ab's are."""
    ignore = RESULTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.parent.mkdir(parents=True, exist_ok=True)
        ignore.write_text("*\n")
    return RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _document(args: argparse.Namespace, verdicts: list[Verdict], measured: list[Measured]) -> Any:
    return {
        "format_version": FORMAT_VERSION,
        "branch": args.branch,
        "rounds": args.rounds,
        "suspicions": [_verdict_dict(v) for v in verdicts],
        "measured": [
            {
                "last_good_commit": m.last_good,
                "newest_commit": m.newest,
                "runs": len(m.runs),
                "order": m.order,
                "seconds": round(m.seconds, 3),
            }
            for m in measured
        ],
        "runs_stored": sum(len(m.runs) for m in measured),
    }


def _verdict_dict(v: Verdict) -> dict[str, Any]:
    s, a = v.suspicion, v.alert
    found = s.pair.suspect
    return {
        "benchmark": s.benchmark,
        "metric": s.metric,
        "machine": s.machine,
        "kind": found.kind,
        "ratio": round(found.ratio, 6),
        "statistic": round(found.statistic, 3),
        "threshold": round(found.threshold, 3),
        "commit": s.commit,
        "last_good_commit": s.pair.last_good,
        "newest_commit": s.pair.newest,
        "outcome": v.outcome,
        "reason": v.reason,
        "paired": None if v.evidence is None else _paired_dict(v.evidence),
        "alert": None
        if a is None
        else {
            "commit": a.commit,
            "last_good_commit": a.last_good_commit,
            "kind": a.kind,
            "shape": a.shape,
            "magnitude": round(a.magnitude, 6),
        },
    }


def _paired_dict(e: PairedEvidence) -> dict[str, Any]:
    bounded = e.low > 0 and e.high < float("inf")
    return {
        "rounds": e.rounds,
        "ratio": round(e.ratio, 6),
        "ci": [round(e.low, 6), round(e.high, 6)] if bounded else None,
        "confidence": round(1 - 2 * e.level, 6),
        "p_value": e.p_value,
        "level": e.level,
        "supports": e.supports,
    }


def _text(branch: str, verdicts: list[Verdict], measured: list[Measured]) -> str:
    if not verdicts:
        return f"branch {branch}: no suspected change to confirm"
    counts = {o: sum(v.outcome == o for v in verdicts) for o in ("confirmed", "dropped", "skipped")}
    runs = sum(len(m.runs) for m in measured)
    lines = [
        f"branch {branch}: {len(verdicts)} suspected change(s): "
        + ", ".join(f"{n} {o}" for o, n in counts.items() if n)
        + f"; {runs} run(s) of {len(measured)} pair(s) of commits measured again"
    ]
    for v in verdicts:
        s, found = v.suspicion, v.suspicion.pair.suspect
        head = (
            f"  {v.outcome}: {s.benchmark} {s.metric} on {s.machine}, {found.kind} "
            f"×{found.ratio:.3f} at {s.pair.last_good[:10]}..{s.commit[:10]} "
            f"(statistic {abs(found.statistic):.2f} of {found.threshold:.2f})"
        )
        if v.alert is not None and v.evidence is not None:
            head += (
                f": {describe(v.evidence)}; alert ×{v.alert.magnitude:.3f} at {v.alert.commit[:10]}"
            )
        elif v.reason:
            head += f": {v.reason}"
        lines.append(head)
    return "\n".join(lines)


def _progress(line: str) -> None:
    print(f"perfci confirm: {line}", file=sys.stderr, flush=True)
