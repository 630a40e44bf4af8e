"""`perfci comment`: create or update the pull request's one perfci comment."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError
from perfci.github.client import GitHubClient, RetryPolicy
from perfci.github.comment import DEFAULT_AUTHOR, comment_body, pull_head_sha, upsert_comment
from perfci.github.event import check_sha, parse_pr_number, pull_context


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "comment",
        help="create or update the pull request's perfci comment (body: compare's Markdown)",
        description="Posts BODY (the output of `perfci compare --format markdown`) as one "
        "sticky comment: the comment by --author that carries perfci's hidden marker is "
        "updated in place, or created once. The token comes from $GITHUB_TOKEN, the API "
        "from $GITHUB_API_URL; the PR number and repository from the event and environment "
        "unless given. Bodies over GitHub's 65,536 characters are trimmed with a link to "
        "the full report.",
    )
    parser.add_argument("body", type=Path, metavar="BODY", help="Markdown file of the body")
    parser.add_argument("--pr", metavar="N", help="pull-request number (default: the event's)")
    parser.add_argument("--repo", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    parser.add_argument(
        "--head-sha",
        metavar="SHA",
        help="post only if the pull request's head is still this commit",
    )
    parser.add_argument("--report-url", metavar="URL", help="full report (default: the run)")
    parser.add_argument("--author", default=DEFAULT_AUTHOR, help="login that owns the comment")
    parser.add_argument("--dry-run", action="store_true", help="print the body, post nothing")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        markdown = args.body.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.body}: {exc}") from None
    context = pull_context(
        overrides={
            "pr_number": parse_pr_number(args.pr) if args.pr is not None else None,
            "repository": args.repo,
            "run_url": args.report_url,
        }
    )
    body = comment_body(markdown, context.run_url)
    if args.dry_run:
        sys.stdout.write(body)
        return 0
    if context.pr_number is None:
        raise UsageError("no pull-request number in the event; pass --pr N")
    if context.repository is None:
        raise UsageError("no repository: set $GITHUB_REPOSITORY or pass --repo OWNER/NAME")
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token.strip():
        raise UsageError("$GITHUB_TOKEN is not set")
    try:  # the first retry's delay; doubles each attempt
        backoff = float(os.environ.get("PERFCI_GITHUB_BACKOFF", "1"))
    except ValueError:
        raise UsageError("$PERFCI_GITHUB_BACKOFF must be a number of seconds") from None
    retry = RetryPolicy(base_delay=max(0.0, backoff))
    with GitHubClient(token.strip(), context.api_url, retry) as client:
        if args.head_sha:
            expected = check_sha(args.head_sha, "--head-sha")
            current = pull_head_sha(client, context.repository, context.pr_number)
            if not current.startswith(expected):
                print(
                    f"perfci: pull request #{context.pr_number} has moved on to "
                    f"{current[:12] or 'another commit'}; not posting results of {expected[:12]}",
                    file=sys.stderr,
                )
                return 0
        posted = upsert_comment(
            client, context.repository, context.pr_number, body, author=args.author
        )
    print(f"{posted.action} comment {posted.comment_id} on #{context.pr_number} {posted.url}")
    return 0
