"""`perfci comment`: create or update the pull request's one perfci comment."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfci.cli.common import UsageError, github_client
from perfci.dashboard.naming import pull_request_url, safe_href
from perfci.github.comment import DEFAULT_AUTHOR, comment_body, pull_head_sha, upsert_comment
from perfci.github.event import check_sha, parse_pr_number, pull_context

DASHBOARD_ENV = "PERFCI_DASHBOARD_URL"
# What a site's address may hold: the link goes into Markdown, where spaces, quotes,
# brackets and parentheses would end it early or turn it into something else.
_URL = re.compile(r"[A-Za-z0-9\-._~:/@!$&*+,;=%]+")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "comment",
        help="create or update the pull request's perfci comment (body: compare's Markdown)",
        description="Posts BODY (the output of `perfci compare --format markdown`) as one "
        "sticky comment: the comment by --author that carries perfci's hidden marker is "
        "updated in place, or created once. The token comes from $GITHUB_TOKEN, the API "
        "from $GITHUB_API_URL; the PR number and repository from the event and environment "
        "unless given. Bodies over GitHub's 65,536 characters are trimmed with a link to "
        "the full report. With --dashboard-url, the comment ends with a link to the pull "
        "request's page on the published dashboard.",
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
    parser.add_argument(
        "--dashboard-url",
        metavar="URL",
        help=f"where the dashboard is published (default: ${DASHBOARD_ENV}); the comment "
        "links to the pull request's page under it",
    )
    parser.add_argument("--author", default=DEFAULT_AUTHOR, help="login that owns the comment")
    parser.add_argument("--dry-run", action="store_true", help="print the body, post nothing")
    parser.set_defaults(handler=handle)


def dashboard_url(value: str, source: str) -> str:
    """`value` when it is the http(s) address of a site: a host, no query or fragment,
    nothing that would break a Markdown link; UsageError naming `source` otherwise."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or safe_href(value) is None
        or not parts.netloc
        or parts.query
        or parts.fragment
        or not _URL.fullmatch(value)
    ):
        raise UsageError(
            f"{source} must be the dashboard's http(s) address, e.g. "
            f"https://OWNER.github.io/REPO/, not {value[:80]!r}"
        )
    return value


def handle(args: argparse.Namespace) -> int:
    if args.dashboard_url is not None:
        site = dashboard_url(args.dashboard_url, "--dashboard-url")
    elif os.environ.get(DASHBOARD_ENV):  # set but empty: no dashboard to link to
        site = dashboard_url(os.environ[DASHBOARD_ENV], f"${DASHBOARD_ENV}")
    else:
        site = None
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
    if site is not None and context.pr_number is None:
        raise UsageError("no pull-request number to link the dashboard's page for; pass --pr N")
    page = pull_request_url(site, context.pr_number) if site and context.pr_number else None
    body = comment_body(markdown, context.run_url, page)
    if args.dry_run:
        sys.stdout.write(body)
        return 0
    if context.pr_number is None:
        raise UsageError("no pull-request number in the event; pass --pr N")
    if context.repository is None:
        raise UsageError("no repository: set $GITHUB_REPOSITORY or pass --repo OWNER/NAME")
    with github_client(context.api_url) as client:
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
