"""`perfci keep ARTIFACT --pr N --head-sha SHA --into DIR`: keep a pull request's checked
results on perfci-data, for the dashboard's pull-request page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError, github_client, pr_number_arg
from perfci.dashboard.kept import MAX_TRACE_BYTES, MAX_TRACES_BYTES, NOT_JSON, SUFFIX
from perfci.github.artifact import PULLS, Kept, keep_pull_results, read_pull_results
from perfci.github.client import GitHubError
from perfci.github.comment import pull_head_sha
from perfci.github.event import check_sha, pull_context
from perfci.results import is_sha


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "keep",
        help="check a pull request's results (perf-pr's artifact) and keep them on perfci-data",
        description=f"Reads every results file (*.json) in ARTIFACT as data and checks that "
        f"each is a pull_request run of pull request N at the head commit SHA, and (through "
        f"the API, token from $GITHUB_TOKEN) that N's head is still SHA; then writes them "
        f"under DIR as {PULLS}/N/SHA-NAME.json, which `perfci rebuild` reads back. A "
        f"same-job A/B folder (ab.json) also keeps its rounds, and a folder whose "
        f"regressions were profiled its checked diffs and raw traces, in "
        f"{PULLS}/N/SHA{SUFFIX}/ for the dashboard's pull-request page: gzip-compressed "
        f"JSON only, each trace parsed as JSON and written again as data (a trace that is "
        f"not JSON by name is left out); a trace over {MAX_TRACE_BYTES >> 20} MiB, or "
        f"past {MAX_TRACES_BYTES >> 20} MiB of traces for the head, is left out and said "
        f"so. A pull request that has moved on keeps nothing (exit 0). Any file that fails "
        f"a check: exit 2 and nothing written.",
    )
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT", help="folder of results")
    parser.add_argument(
        "--pr", metavar="N", required=True, type=pr_number_arg, help="pull-request number"
    )
    parser.add_argument("--head-sha", metavar="SHA", required=True, help="its head commit (full)")
    parser.add_argument(
        "--into", type=Path, metavar="DIR", required=True, help="checkout of perfci-data"
    )
    parser.add_argument("--repo", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    number: int = args.pr
    head = check_sha(args.head_sha, "--head-sha")
    if len(head) != 40:
        raise UsageError(f"--head-sha must be the full 40-character sha, not {head!r}")
    if not args.into.is_dir():
        raise UsageError(f"--into {args.into} is not a folder")
    results = read_pull_results(args.artifact, number, head)
    context = pull_context(overrides={"pr_number": number, "repository": args.repo})
    if context.repository is None:
        raise UsageError("no repository: set $GITHUB_REPOSITORY or pass --repo OWNER/NAME")
    with github_client(context.api_url) as client:
        current = pull_head_sha(client, context.repository, number)
    if not is_sha(current):
        raise GitHubError(f"GitHub's answer for pull request #{number} names no head commit")
    if current != head:
        print(
            f"perfci: pull request #{number} has moved on to {current[:12]}; "
            f"not keeping results of {head[:12]}",
            file=sys.stderr,
        )
        return 0
    try:
        kept = keep_pull_results(results, args.into)
    except OSError as exc:
        raise UsageError(f"cannot write into --into {args.into}: {exc.strerror or exc}") from None
    print(_said(kept, number, head))
    return 0


def _said(kept: Kept, number: int, head: str) -> str:
    """What was kept, a line each: the results files, then the head's kept folder."""
    lines = [f"kept {len(kept.files)} results file(s) of #{number} at {head[:12]} in "
             f"{kept.files[0].parent}"]  # fmt: skip
    if kept.folder is not None:
        what = ["the A/B rounds"] if kept.rounds else []
        if kept.diffs:
            traces = sum(t.file is not None for t in kept.traces)
            what.append(f"{kept.diffs} profile diff(s) with {traces} raw trace(s)")
        lines.append(f"kept {' and '.join(what)} of {head[:12]} in {kept.folder}")
        other = [t for t in kept.traces if t.left_out == NOT_JSON]
        if other:
            lines.append(f"left out {len(other)} trace(s) that are not JSON (e.g. cProfile's)")
        lines += [f"left out {t.name}: {t.left_out}" for t in kept.traces
                  if t.left_out and t.left_out != NOT_JSON]  # fmt: skip
    return "\n".join(lines)
