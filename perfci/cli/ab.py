"""`perfci ab`: base and head measured in the same job, interleaved, judged paired."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfci import pytest_args
from perfci.ab.explained import Explained, explain_regressions
from perfci.ab.manifest import MANIFEST, manifest_of, write_manifest
from perfci.ab.report import (
    ab_markdown,
    ab_section,
    baseline_of,
    comparison_explanation,
    explain_line,
)
from perfci.ab.session import ABError, Outcome, Plan, parse_duration, run_ab
from perfci.ab.worktree import SideError, sides
from perfci.cli.common import UsageError, add_db_option, add_verdict_options, verdict_config
from perfci.compare import fails
from perfci.explain.capture import DEFAULT_CALLS, calls_arg
from perfci.explain.render import explain_text
from perfci.measure.profiles import DEFAULT_PROFILE, PROFILES
from perfci.report.json import comparison_json
from perfci.report.text import comparison_report
from perfci.store import open_store
from perfci.store.engine import describe_url
from perfci.store.ingest import ingest_runs

RESULTS = Path(".perfci/ab/results")
MIN_ROUNDS = 3
MAX_ROUNDS = 30
BUDGET = "20m"
EXPLAIN_BUDGET = "5m"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "ab",
        help="measure base and head in this job, interleaved, and judge them paired",
        description="Checks out --base (and --head, default: the working tree) as git "
        "worktrees under .perfci/ab/, runs the benchmarks in fresh pytest processes, base "
        "and head alternating (ABBA BAAB …), each process one run, and compares each round's "
        f"head with its base. After --min-rounds (default {MIN_ROUNDS}) only the benchmarks "
        "still undecided run again, until every metric is decided, --max-rounds run out or "
        "the next round would not fit --budget. The confidence intervals hold at every look "
        "(an always-valid sequential test), so stopping early keeps the false-alarm rate. "
        "Every run is stored (trigger ab, never a branch's history) and its results file "
        f"kept in --results DIR (default: a new folder under {RESULTS}/) with {MANIFEST}, "
        "which names each round's base and head files in order. Then each regression's test "
        "is profiled on base and head (as perfci explain does) within --explain-budget, its "
        "diff and raw traces kept under explain/ in that folder and named in the manifest; "
        "profiling never changes a verdict. Arguments after -- go to "
        "pytest (default target: ./suites). Exit status 1 when a regression was found and "
        "--fail-on-regression was given, 2 for bad input (nothing stored).",
    )
    parser.add_argument("--base", metavar="REF", required=True, help="the base commit")
    parser.add_argument("--head", metavar="REF", help="the head commit (default: the working tree)")
    parser.add_argument("--min-rounds", type=int, default=MIN_ROUNDS, metavar="N")
    parser.add_argument("--max-rounds", type=int, default=MAX_ROUNDS, metavar="N")
    parser.add_argument(
        "--budget", default=BUDGET, metavar="DURATION", help=f"e.g. 90s, 20m (default {BUDGET})"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE)
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run a round's two processes one after the other, not at once taking turns "
        "round by round",
    )
    parser.add_argument(
        "--affinity",
        metavar="CPUS",
        help="run both sides' processes on these CPUs only (Linux; e.g. 1 or 0,2-3): for a "
        "machine whose CPUs differ in speed; a multi-threaded benchmark then has only these",
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help=f"folder for the rounds' results files and {MANIFEST} (created; must hold no "
        f"*.json yet; default: a new folder under {RESULTS}/)",
    )
    parser.add_argument(
        "--explain-budget", default=EXPLAIN_BUDGET, metavar="DURATION",
        help="time for profiling the regressions after the rounds, worst first, e.g. 90s "
        f"(default {EXPLAIN_BUDGET}; 0: none is profiled)",
    )  # fmt: skip
    parser.add_argument(
        "--explain-calls", type=calls_arg, default=DEFAULT_CALLS, metavar="N",
        help=f"calls per profiler per process when explaining (default {DEFAULT_CALLS})",
    )  # fmt: skip
    add_verdict_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _explain_budget(text: str) -> float:
    """Seconds of --explain-budget; 0 turns profiling off."""
    if text.strip() in ("0", "0s", "0m"):
        return 0.0
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--explain-budget: {exc}") from None


def _plan(args: argparse.Namespace) -> Plan:
    if not 1 <= args.min_rounds <= args.max_rounds:
        raise UsageError("--min-rounds must be at least 1 and at most --max-rounds")
    try:
        budget = parse_duration(args.budget)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None
    return Plan(
        tuple(args.pytest_args or ()), args.profile, args.min_rounds, args.max_rounds, budget,
        args.min_effect, turns=not args.sequential, affinity=_affinity(args.affinity),
    )  # fmt: skip


def _affinity(text: str | None) -> frozenset[int] | None:
    """--affinity's CPUs: numbers and ranges this process may run on."""
    if text is None:
        return None
    if not hasattr(os, "sched_setaffinity"):
        raise UsageError("--affinity needs an OS that lets a process choose its CPUs (Linux)")
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or not (high or low).isdigit() or int(low) > int(high or low):
            raise UsageError(f"--affinity: not a CPU list: {text!r} (e.g. 1 or 0,2-3)")
        cpus.update(range(int(low), int(high or low) + 1))
    allowed = os.sched_getaffinity(0)
    if not cpus <= allowed:
        raise UsageError(
            f"--affinity: CPU(s) {sorted(cpus - allowed)} not available here "
            f"(this process may use {sorted(allowed)})"
        )
    return frozenset(cpus)


def _check_targets(plan: Plan, roots: list[Path]) -> Plan:
    """Each side has the tests named (default: ./suites)."""
    for root in roots:
        try:
            named = pytest_args.targets(plan.targets, root)
        except ValueError as exc:
            raise UsageError(f"{exc} in {root}: name the tests to run after --") from None
        if not named and not (root / "suites").is_dir():
            raise UsageError(f"no ./suites folder in {root}: name the tests to run after --")
    if not pytest_args.split(plan.targets)[1]:
        return dataclasses.replace(plan, targets=(*plan.targets, "suites"))
    return plan


def _render(args: argparse.Namespace, outcome: Outcome, explained: Explained | None) -> str:
    comparisons = outcome.comparisons
    if args.format == "markdown":
        return ab_markdown(outcome, explained=explained).rstrip("\n")
    if args.format == "json":
        doc = json.loads(comparison_json(baseline_of(outcome), comparisons))
        for row, c in zip(doc["comparisons"], comparisons, strict=True):
            row["explanation"] = comparison_explanation(c, explained)
        doc["ab"] = ab_section(outcome, explained)
        return json.dumps(doc, indent=2)
    text = comparison_report(baseline_of(outcome), comparisons)
    if explained is None:
        return text
    parts = [explain_text(e) for e in explained.explanations]
    return "\n\n".join([text, *parts, explain_line(explained, markdown=False)])


def _results_folder(given: Path | None) -> Path:
    """Where the rounds' files go: `given`, which may exist but must hold no results file
    (the manifest names every one there), else a new folder named by the time."""
    if given is None:
        return RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    if given.exists() and not given.is_dir():
        raise UsageError(f"--results {given} is not a folder")
    if given.is_dir() and any(given.glob("*.json")):
        raise UsageError(f"--results {given} already holds results files (*.json)")
    return given


def handle(args: argparse.Namespace) -> int:
    config = verdict_config(args)
    plan = _plan(args)
    explain_budget = _explain_budget(args.explain_budget)
    out = _results_folder(args.results)
    try:
        with sides(Path.cwd(), args.base, args.head, config.ab_setup) as (base, head):
            plan = _check_targets(plan, [base.root, head.root])
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot make {out}: {exc.strerror or exc}") from None
            outcome = run_ab(base, head, plan, config, out.resolve(), _progress)
            shas = base.sha, head.sha
            explained = None
            if explain_budget > 0:
                explained = explain_regressions(
                    base, head, outcome.comparisons, out.resolve(), explain_budget,
                    args.explain_calls, _progress,
                )  # fmt: skip
    except (SideError, ABError) as exc:
        raise UsageError(str(exc)) from None
    entry = explained.entry if explained is not None else None
    write_manifest(out, manifest_of(outcome, *shas, entry))
    store = open_store(args.db)
    try:
        stored = ingest_runs(store, [f.result for pair in outcome.rounds for f in pair])
    finally:
        store.close()
    print(_render(args, outcome, explained))
    print(
        f"\nStored {len(stored)} A/B run(s) in {describe_url(store.url)}; results files in {out}",
        file=sys.stderr,
    )
    return 1 if fails(outcome.comparisons) and args.fail_on_regression else 0


def _progress(line: str) -> None:
    print(f"perfci ab: {line}", file=sys.stderr, flush=True)
