"""`perfci compare`: a pull request's head against its base, from the store or from files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perfci.baseline import Verdicts, compare_head, main_trends
from perfci.cli.common import UsageError, add_db_option, add_verdict_options, verdict_config
from perfci.compare import ResultsFile, fails
from perfci.config import Config
from perfci.context import resolve_commit
from perfci.git import merge_base
from perfci.report.comment import CommentExtras, comment_markdown
from perfci.report.json import comparison_json
from perfci.report.text import comparison_report
from perfci.results import is_sha
from perfci.store import Store, open_store
from perfci.store.engine import describe_url
from perfci.store.importers import load_results_file
from perfci.store.queries import RunRow, runs_of_commit
from perfci.store.trends import Trends


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "compare",
        help="compare a head run with its base runs: verdict per benchmark and metric",
        description="With --base REF --head REF: the latest stored run of the head commit "
        "against up to 10 runs on the same machine and environment, from the merge-base of "
        "the two along the base's first-parent history. With files: every file but the last "
        "is a base run, the last is the head (perfci or pytest-benchmark JSON). A change "
        "is only called once the runs tell their run-to-run noise: 5 runs in all (or, from "
        "the store, earlier runs of the machine in another environment). Exit status "
        "1 when a regression was found and --fail-on-regression was given, 2 for bad input.",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument(
        "--base", metavar="REF", help="base commit: a sha or prefix, branch, tag or HEAD~1"
    )
    parser.add_argument(
        "--head", metavar="REF", help="head commit: a sha or prefix, branch, tag or HEAD"
    )
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    add_verdict_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _from_files(files: Sequence[Path], config: Config, min_effect: float) -> Verdicts:
    if len(files) < 2:
        raise UsageError("compare needs at least two files (base... head), or --base and --head")
    *bases, head = [ResultsFile(str(f), load_results_file(f)) for f in files]
    for base in bases:
        if base.result.machine.get("fingerprint") != head.result.machine.get("fingerprint"):
            raise UsageError(
                f"{base.path} was measured on other hardware ({base.result.machine.get('chip')})"
                f" than {head.path} ({head.result.machine.get('chip')}): not comparable"
            )
    return compare_head(head, bases, config, min_effect=min_effect)


def _stored_runs(store: Store, ref: str, flag: str) -> list[RunRow]:
    """The stored runs of the commit `ref` names, newest first: the commit git resolves it
    to in the working directory, else the stored commit whose sha starts with it.
    UsageError (one line) when it names no commit, or several, or one without runs."""
    sha = resolve_commit(Path.cwd(), ref)
    if sha is None and not is_sha(ref.lower()):
        raise UsageError(f"{flag} {ref[:80]!r} names no commit: git does not know it here")
    runs = runs_of_commit(store, sha or ref)
    if not runs:
        named = f"{ref!r} (commit {sha[:12]})" if sha and sha != ref.lower() else repr(ref)
        raise UsageError(f"{flag} {named} has no stored run in {describe_url(store.url)}")
    if len({r.sha for r in runs}) > 1:
        raise UsageError(f"{flag} {ref!r} matches several stored commits; give more of the sha")
    return runs


def _from_store(args: argparse.Namespace, config: Config) -> tuple[Verdicts, Trends]:
    """The verdicts, and for Markdown main's recent trend per metric (read while the
    store is open)."""
    if not args.base or not args.head:
        raise UsageError("give both --base REF and --head REF, or two results files")
    cwd = Path.cwd()
    store = open_store(args.db)
    try:
        head = _stored_runs(store, args.head, "--head")[0]
        base_sha = resolve_commit(cwd, args.base) or _stored_runs(store, args.base, "--base")[0].sha
        start = merge_base(cwd, base_sha, head.sha) or base_sha
        verdicts = compare_head(
            head, store, config, min_effect=args.min_effect, start=start, cwd=cwd
        )
        trends = main_trends(store, verdicts, cwd) if args.format == "markdown" else {}
        return verdicts, trends
    finally:
        store.close()


def handle(args: argparse.Namespace) -> int:
    config = verdict_config(args)
    if args.files and (args.base or args.head):
        raise UsageError("give either results files or --base/--head, not both")
    trends: Trends = {}
    if args.files:
        verdicts = _from_files(args.files, config, args.min_effect)
    else:
        verdicts, trends = _from_store(args, config)
    baseline, comparisons = verdicts.baseline, verdicts.comparisons
    if args.format == "markdown":
        print(comment_markdown(baseline, comparisons, extras=CommentExtras(trends=trends)), end="")
    elif args.format == "json":
        print(comparison_json(baseline, comparisons))
    else:
        print(comparison_report(baseline, comparisons))
    return 1 if fails(verdicts.comparisons) and args.fail_on_regression else 0
