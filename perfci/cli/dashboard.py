"""`perfci dashboard`: build the static HTML trend site from the store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError, add_db_option
from perfci.config import ConfigError, load_config
from perfci.dashboard import build_site
from perfci.dashboard.naming import safe_href
from perfci.store import open_store
from perfci.store.engine import StoreError, resolve_url, sqlite_file

DEFAULT_OUT = Path(".perfci/site")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "dashboard",
        help="build the static HTML dashboard (works offline and from a Pages sub-path)",
        description="Writes the trend site into --out: an overview, a page per benchmark, "
        "runs, machines and pull requests. Rebuilding rewrites only files that changed.",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"site folder (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--repo-url",
        metavar="URL",
        help="repository web address for commit links (default: from $GITHUB_SERVER_URL and "
        "$GITHUB_REPOSITORY when set)",
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="where the site is published, for the printed address"
    )
    parser.add_argument(
        "--pulls",
        type=Path,
        metavar="DIR",
        help="perfci-data's pulls/ folder: pull-request pages of A/B comparisons, and the "
        "regressions' kept profile diffs with links to their raw traces (perfci keep)",
    )
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def default_repo_url() -> str | None:
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{repo}" if server and repo else None


def check_store_exists(url: str) -> None:
    """The dashboard only reads: a SQLite file that is not there is a mistake, not a new store."""
    try:
        path = sqlite_file(url)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if path is not None and not path.is_file():
        raise UsageError(f"no perfci store at {path}: run `perfci run` or `perfci ingest` first")


def build(
    db: str | None, out: Path, repo_url: str | None, base_url: str | None, pulls: Path | None = None
) -> tuple[Path, int, int]:
    """Build the site; returns the overview's path, the page count and files written."""
    for option, value in (("--repo-url", repo_url), ("--base-url", base_url)):
        if value is not None and safe_href(value) is None:
            raise UsageError(f"{option} must be an http(s) address, not {value!r}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if pulls is not None and not pulls.is_dir():
        raise UsageError(f"--pulls {pulls} is not a folder")
    try:
        config = load_config()  # read before anything is written: a bad file writes nothing
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    url = resolve_url(db)
    check_store_exists(url)
    store = open_store(url, upgrade=False)
    try:
        report = build_site(
            store, out, repo_url=repo_url, base_url=base_url, config=config, pulls=pulls
        )
    except OSError as exc:
        raise UsageError(f"cannot write the site into --out {out}: {exc.strerror or exc}") from None
    finally:
        store.close()
    return report.index, report.pages, len(report.written)


def handle(args: argparse.Namespace) -> int:
    repo_url = args.repo_url or default_repo_url()
    index, pages, written = build(args.db, args.out, repo_url, args.base_url, args.pulls)
    print(f"Dashboard: {index.resolve()} ({pages} pages, {written} files written)")
    if args.base_url:
        print(f"Published at: {args.base_url.rstrip('/')}/index.html")
    return 0
