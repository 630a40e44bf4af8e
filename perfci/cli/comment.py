"""`perfci comment`: create or update the pull request's one perfci comment."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from perfci.baseline import main_trends
from perfci.cli.common import UsageError, add_db_option, github_client, pr_number_arg
from perfci.config import Config, ConfigError, load_config
from perfci.dashboard.naming import pull_request_url, safe_href
from perfci.explain.history import whys as profiled_whys
from perfci.github.artifact import PullResults, read_pull_results
from perfci.github.comment import DEFAULT_AUTHOR, MARKDOWN_LIMIT, comment_body, upsert_comment
from perfci.github.event import PullContext, check_sha, pull_context
from perfci.github.pull_report import ab_pull_markdown, compare_pull, pull_markdown
from perfci.github.trust import LABEL, REFUSED, Refused, check_pull
from perfci.github.trust import merge_base as trust_merge_base
from perfci.report.comment import CommentExtras, comment_markdown
from perfci.store import Store, open_store

if TYPE_CHECKING:
    from perfci.github.client import GitHubClient

DASHBOARD_ENV = "PERFCI_DASHBOARD_URL"
# What a site's address may hold: the link goes into Markdown, where spaces, quotes,
# brackets and parentheses would end it early or turn it into something else.
_URL = re.compile(r"[A-Za-z0-9\-._~:/@!$&*+,;=%]+")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "comment",
        help="create or update the pull request's perfci comment (from checked results, or "
        "compare's Markdown)",
        description="Posts one sticky comment: the comment by --author that carries "
        "perfci's hidden marker is updated in place, or created once. With --results DIR "
        "(perf-pr's artifact), its results files are checked to be pull request N's run of "
        "--head-sha, added to the store (--db: a scratch store of main's runs, such as "
        "`perfci rebuild` makes from perfci-data), compared from the merge-base, and the "
        "comment is made from those verdicts: no text from the artifact is posted. With "
        "BODY, that Markdown file (the output of `perfci compare --format markdown`) is "
        "posted. A fork's pull request is posted on only while it carries the perf-ok "
        "label given for its head commit, which must be --head-sha (refused: one line, "
        f"exit {REFUSED}); --check-trust asks only that. The token comes from "
        "$GITHUB_TOKEN, the API from $GITHUB_API_URL; the PR number and repository from "
        "the event and environment unless given. Bodies over GitHub's 65,536 characters "
        "are trimmed with a link to the full report. With --dashboard-url, the comment "
        "ends with a link to the pull request's page on the published dashboard.",
    )
    parser.add_argument(
        "body", type=Path, nargs="?", metavar="BODY", help="Markdown file of the body"
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="perf-pr's artifact: make the comment from its checked results files instead "
        "of a BODY",
    )
    parser.add_argument(
        "--base",
        metavar="SHA",
        help="with --results: the merge-base to compare from (default: the API's "
        "merge-base of the pull request's base and head)",
    )
    parser.add_argument(
        "--check-trust",
        action="store_true",
        help="only check, through the API, that results of --head-sha may be kept and "
        f"posted now (exit 0), else say why (exit {REFUSED}); with --results, its files "
        "are checked first; posts nothing",
    )
    parser.add_argument(
        "--pr", type=pr_number_arg, metavar="N", help="pull-request number (default: the event's)"
    )
    parser.add_argument("--repo", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    parser.add_argument(
        "--head-sha",
        metavar="SHA",
        help="post only if the pull request's head is still this commit (the full sha for "
        "--results, --check-trust and a fork's pull request)",
    )
    parser.add_argument("--report-url", metavar="URL", help="full report (default: the run)")
    parser.add_argument(
        "--dashboard-url",
        metavar="URL",
        help=f"where the dashboard is published (default: ${DASHBOARD_ENV}); the comment "
        "links to the pull request's page under it",
    )
    parser.add_argument("--author", default=DEFAULT_AUTHOR, help="login that owns the comment")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the body, ask and post nothing (--results then needs --base)",
    )
    add_db_option(parser)
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


def _site(args: argparse.Namespace) -> str | None:
    if args.dashboard_url is not None:
        return dashboard_url(args.dashboard_url, "--dashboard-url")
    if os.environ.get(DASHBOARD_ENV):  # set but empty: no dashboard to link to
        return dashboard_url(os.environ[DASHBOARD_ENV], f"${DASHBOARD_ENV}")
    return None


def _context(args: argparse.Namespace) -> PullContext:
    return pull_context(
        overrides={
            "pr_number": args.pr,
            "repository": args.repo,
            "run_url": args.report_url,
        }
    )


def _target(context: PullContext) -> tuple[str, int]:
    """The repository and pull-request number to post on; UsageError when one is unknown."""
    if context.pr_number is None:
        raise UsageError("no pull-request number in the event; pass --pr N")
    if context.repository is None:
        raise UsageError("no repository: set $GITHUB_REPOSITORY or pass --repo OWNER/NAME")
    return context.repository, context.pr_number


def _full_sha(value: str | None, needed_by: str) -> str:
    if value is None:
        raise UsageError(f"{needed_by} needs --head-sha SHA (the full sha of the results' commit)")
    head = check_sha(value, "--head-sha")
    if len(head) != 40:
        raise UsageError(f"--head-sha must be the full 40-character sha, not {head!r}")
    return head


def _refused(exc: Refused) -> int:
    print(f"perfci: refused: {exc}", file=sys.stderr)
    return REFUSED


def _moved_on(number: int, current: str, expected: str) -> int:
    print(
        f"perfci: pull request #{number} has moved on to {current[:12] or 'another commit'}; "
        f"not posting results of {expected[:12]}",
        file=sys.stderr,
    )
    return 0


def _body(context: PullContext, markdown: str, site: str | None) -> str:
    if site is not None and context.pr_number is None:
        raise UsageError("no pull-request number to link the dashboard's page for; pass --pr N")
    return comment_body(markdown, context.run_url, _page(site, context.pr_number))


def _post(client: GitHubClient, repo: str, number: int, body: str, author: str) -> int:
    posted = upsert_comment(client, repo, number, body, author=author)
    print(f"{posted.action} comment {posted.comment_id} on #{number} {posted.url}")
    return 0


def handle(args: argparse.Namespace) -> int:
    site = _site(args)
    if args.check_trust:
        if args.body is not None:
            raise UsageError("--check-trust posts nothing: give no BODY")
        return _check_trust(args)
    if args.results is not None:
        if args.body is not None:
            raise UsageError("give BODY or --results DIR, not both")
        return _from_results(args, site)
    if args.body is None:
        raise UsageError("give BODY (a Markdown file) or --results DIR (perf-pr's artifact)")
    if args.base is not None:
        raise UsageError("--base goes with --results DIR")
    return _from_body(args, site)


def _check_trust(args: argparse.Namespace) -> int:
    head = _full_sha(args.head_sha, "--check-trust")
    context = _context(args)
    repo, number = _target(context)
    if args.results is not None:  # the files first: bad input asks nothing of the API
        read_pull_results(args.results, number, head)
    with github_client(context.api_url) as client:
        try:
            pull = check_pull(client, repo, number, head)
        except Refused as exc:
            return _refused(exc)
    if pull.fork:
        print(f"pull request #{number} from {pull.head_repo}: {LABEL} given for {head[:12]}")
    else:
        print(f"pull request #{number} is from this repository")
    return 0


def _from_results(args: argparse.Namespace, site: str | None) -> int:
    head = _full_sha(args.head_sha, "--results")
    context = _context(args)
    if context.pr_number is None:
        raise UsageError("no pull-request number in the event; pass --pr N")
    results = read_pull_results(args.results, context.pr_number, head)
    base = check_sha(args.base, "--base") if args.base is not None else None
    config = _config()
    if args.dry_run:
        if base is None:
            raise UsageError("--dry-run asks nothing of the API: give the merge-base as --base")
        markdown = _markdown(args, results, base, config, _page(site, context.pr_number))
        sys.stdout.write(_body(context, markdown, site))
        return 0
    repo, number = _target(context)
    with github_client(context.api_url) as client:
        try:
            pull = check_pull(client, repo, number, head)
        except Refused as exc:
            return _refused(exc)
        if pull.head_sha != head:
            return _moved_on(number, pull.head_sha, head)
        base = base or trust_merge_base(client, repo, pull.base_sha, head)
        markdown = _markdown(args, results, base, config, _page(site, number))
        body = _body(context, markdown, site)
        return _post(client, repo, number, body, args.author)


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _page(site: str | None, number: int | None) -> str | None:
    """The pull request's page on the published dashboard, which the comment links to."""
    return pull_request_url(site, number) if site and number else None


def _markdown(
    args: argparse.Namespace, results: PullResults, base: str, config: Config, page: str | None
) -> str:
    if results.ab is not None:  # judged again from its files: no store needed
        return ab_pull_markdown(results, base, config)
    store = open_store(args.db)
    try:
        if results.profiled is None:
            return pull_markdown(store, results, base, config, Path.cwd(), page)
        return _profiled_markdown(store, results, base, config, page)
    finally:
        store.close()


def _profiled_markdown(
    store: Store, results: PullResults, base: str, config: Config, page: str | None
) -> str:
    """`pull_markdown`'s comment with a why section for each regression of this
    comparison that the folder's checked diffs explain, profiled against the commit of
    its nearest base run (`perfci.explain.history.whys`): the folder's verdicts are
    never read."""
    assert results.profiled is not None
    cwd = Path.cwd()
    verdicts = compare_pull(store, results, base, config, cwd)
    nearest = verdicts.baseline.run
    whys, line = profiled_whys(
        verdicts.comparisons, nearest.sha if nearest else None, results.profiled
    )
    extras = CommentExtras(page, main_trends(store, verdicts, cwd), whys=whys, why_line=line)
    return comment_markdown(
        verdicts.baseline, verdicts.comparisons, extras=extras, limit=MARKDOWN_LIMIT
    )


def _from_body(args: argparse.Namespace, site: str | None) -> int:
    try:
        markdown = args.body.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.body}: {exc}") from None
    context = _context(args)
    body = _body(context, markdown, site)
    if args.dry_run:
        sys.stdout.write(body)
        return 0
    repo, number = _target(context)
    with github_client(context.api_url) as client:
        if args.head_sha:
            expected = check_sha(args.head_sha, "--head-sha")
            try:
                pull = check_pull(client, repo, number, expected)
            except Refused as exc:
                return _refused(exc)
            if not pull.head_sha.startswith(expected):
                return _moved_on(number, pull.head_sha, expected)
        return _post(client, repo, number, body, args.author)
