"""`perfci context`: the pull request's CI context, as $GITHUB_OUTPUT lines or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from perfci.cli.common import commit_ref, github_output, pr_number_arg
from perfci.github.event import pull_context


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "context",
        help="print the PR number, base, head, merge-base and run URL of this CI run",
        description="Reads $GITHUB_EVENT_PATH and the Actions environment; flags override. "
        "The merge-base comes from git when not given. Default output: key=value lines "
        "for $GITHUB_OUTPUT (a value with a line break in GitHub's key<<DELIMITER form).",
    )
    parser.add_argument("--pr", metavar="N", type=pr_number_arg)
    parser.add_argument("--repo", metavar="OWNER/NAME")
    parser.add_argument("--base", metavar="REF", help="base commit (a sha, branch, tag...)")
    parser.add_argument("--head", metavar="REF", help="head commit")
    parser.add_argument("--merge-base", metavar="REF")
    parser.add_argument("--run-url", metavar="URL")
    parser.add_argument("--format", choices=("env", "json"), default="env")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    def sha(value: str | None, flag: str) -> str | None:
        return commit_ref(value, flag) if value else None

    context = pull_context(
        overrides={
            "pr_number": args.pr,
            "repository": args.repo,
            "base_sha": sha(args.base, "--base"),
            "head_sha": sha(args.head, "--head"),
            "merge_base": sha(args.merge_base, "--merge-base"),
            "run_url": args.run_url,
        }
    )
    fields = context.as_dict()
    if args.format == "json":
        print(json.dumps({"format_version": 1, **fields}, indent=2))
    else:
        print(github_output(fields), end="")
    return 0
