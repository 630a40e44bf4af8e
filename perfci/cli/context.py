"""`perfci context`: the pull request's CI context, as $GITHUB_OUTPUT lines or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from perfci.github.event import parse_pr_number, pull_context


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "context",
        help="print the PR number, base, head, merge-base and run URL of this CI run",
        description="Reads $GITHUB_EVENT_PATH and the Actions environment; flags override. "
        "The merge-base comes from git when not given. Default output: key=value lines "
        "for $GITHUB_OUTPUT.",
    )
    parser.add_argument("--pr", metavar="N")
    parser.add_argument("--repo", metavar="OWNER/NAME")
    parser.add_argument("--base", metavar="SHA")
    parser.add_argument("--head", metavar="SHA")
    parser.add_argument("--merge-base", metavar="SHA")
    parser.add_argument("--run-url", metavar="URL")
    parser.add_argument("--format", choices=("env", "json"), default="env")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    context = pull_context(
        overrides={
            "pr_number": parse_pr_number(args.pr) if args.pr is not None else None,
            "repository": args.repo,
            "base_sha": args.base,
            "head_sha": args.head,
            "merge_base": args.merge_base,
            "run_url": args.run_url,
        }
    )
    fields = context.as_dict()
    if args.format == "json":
        print(json.dumps({"format_version": 1, **fields}, indent=2))
    else:
        for key, value in fields.items():
            print(f"{key}={'' if value is None else value}")
    return 0
