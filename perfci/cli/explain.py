"""`perfci explain`: why a benchmark changed, from a profile diff of base against head."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfci.ab.session import parse_duration
from perfci.ab.worktree import AB_DIR, SideError, sides
from perfci.cli.common import UsageError
from perfci.explain.capture import DEFAULT_CALLS, calls_arg
from perfci.explain.render import FORMAT_VERSION, explain_markdown, explain_text, explanation_json
from perfci.explain.run import ExplainError, Report, Request, check_selection, explain_sides
from perfci.report.markdown import escape
from perfci.report.text import format_value

PROFILES = AB_DIR / "explain"  # beside perfci ab's results, hidden from git status alike
BUDGET = "10m"
LIMIT = 5  # top changes per profiler in the Markdown section


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "explain",
        help="profile a benchmark test on base and head and show what changed, per operator",
        description="Checks out --base (and --head, default: the working tree) as git "
        "worktrees under .perfci/ab/ and re-runs the benchmark test -k names (a pytest node "
        "id; a file explains each benchmark test in it) in fresh pytest processes, base and "
        "head alternating, two per side, each profiling --calls calls with the backend's "
        "profiler (torch.profiler, MLX's graphs, the Core ML compute plan) and cProfile, in "
        "two halves. The diff gives, per operator or function, the change in time and calls "
        "per call, new and vanished ones and device moves, largest first, each judged "
        "against the spread between the profiles of one side (the profiler's own noise). "
        f"Profiles and raw traces (Chrome trace JSON) are kept under {PROFILES}/. Nothing is "
        "stored and no verdict changes. Exit status 2 for bad input.",
    )
    parser.add_argument("--base", metavar="REF", required=True, help="the base commit")
    parser.add_argument("--head", metavar="REF", help="the head commit (default: the working tree)")
    parser.add_argument(
        "-k", dest="nodes", metavar="NODE_ID", action="append", required=True,
        help="the benchmark test, as a pytest node id (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--calls", type=calls_arg, default=DEFAULT_CALLS, metavar="N",
        help=f"calls per profiler per process, in two halves (default {DEFAULT_CALLS})",
    )  # fmt: skip
    parser.add_argument(
        "--budget", default=BUDGET, metavar="DURATION",
        help=f"time for all the profiling, e.g. 90s, 10m (default {BUDGET})",
    )  # fmt: skip
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.set_defaults(handler=handle)


def render(report: Report, fmt: str) -> str:
    """The report in `fmt`: text, markdown (one "why" section per test) or json."""
    if fmt == "json":
        return json.dumps(report_json(report), indent=2)
    if fmt == "markdown":
        parts = [explain_markdown(e, LIMIT) for e in report.explanations]
        return "\n\n".join([*parts, *(f"- {escape(n)}" for n in report.notes), _cost(report)])
    parts = [explain_text(e) for e in report.explanations]
    return "\n\n".join([*parts, *(f"note: {n}" for n in report.notes)])


def _cost(report: Report) -> str:
    """What the profiling took, against its budget."""
    return (
        f"Profiling took {format_value(report.elapsed_s, 's')} of a "
        f"{format_value(report.request.budget_s, 's')} budget ({escape(report.stopped)})."
    )


def report_json(report: Report) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "base": report.base_sha,
        "head": report.head_sha,
        "calls": report.request.calls,
        "budget_s": report.request.budget_s,
        "elapsed_s": round(report.elapsed_s, 3),
        "stopped": report.stopped,
        "profiles": str(report.folder),
        "notes": report.notes,
        "explanations": [explanation_json(e) for e in report.explanations],
    }


def handle(args: argparse.Namespace) -> int:
    from perfci.config import ConfigError, load_config

    try:
        budget = parse_duration(args.budget)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None
    try:
        setup = load_config().ab_setup
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    request = Request(tuple(args.nodes), args.calls, budget)
    folder = PROFILES / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        with sides(Path.cwd(), args.base, args.head, setup) as (base, head):
            check_selection(request.selection, [base.root, head.root])
            report = explain_sides(base, head, request, folder.resolve(), _progress)
    except (SideError, ExplainError) as exc:
        shutil.rmtree(folder, ignore_errors=True)  # no half a set of profiles left behind
        raise UsageError(str(exc)) from None
    print(render(report, args.format))
    print(f"\nProfiles and traces in {folder}", file=sys.stderr)
    return 0


def _progress(line: str) -> None:
    print(f"perfci explain: {line}", file=sys.stderr, flush=True)
