"""`perfci keep ARTIFACT --pr N --head-sha SHA --into DIR`: keep a pull request's checked
results on perfci-data, for the dashboard's pull-request page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError, github_client, pr_number_arg
from perfci.github.artifact import PULLS, keep_pull_results, read_pull_results
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
        f"pull request that has moved on keeps nothing (exit 0). Any file that fails a "
        f"check: exit 2 and nothing written.",
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
    print(f"kept {len(kept)} results file(s) of #{number} at {head[:12]} in {kept[0].parent}")
    return 0
