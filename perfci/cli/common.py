"""What several commands share: the --db option and commit flags."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from perfci.context import commit_from_git
from perfci.results import CommitInfo, RunResult, is_sha
from perfci.store.engine import DEFAULT_URL


class UsageError(Exception):
    """Bad arguments; the message is one line for the user."""


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"SQLAlchemy database URL (default: $PERFCI_DB, else {DEFAULT_URL})",
    )


def add_commit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--commit", metavar="SHA", help="the commit measured (default: from the file or git)"
    )
    parser.add_argument(
        "--parent", metavar="SHA", action="append", help="its parent (repeat for merges)"
    )
    parser.add_argument("--branch", metavar="NAME", help="the branch it was measured on")
    parser.add_argument(
        "--machine", metavar="NAME", help="label for the machine (its hardware fingerprint stays)"
    )


def apply_commit_options(result: RunResult, args: argparse.Namespace, source: str) -> RunResult:
    """`result` with the command line's commit, parents, branch and machine label applied;
    commit metadata the flags leave out comes from git in the working directory."""
    for sha in [args.commit, *(args.parent or [])]:
        if sha is not None and not is_sha(sha.lower()):
            raise UsageError(f"{sha!r} is not a git sha")
    commit = result.commit
    if args.commit:
        sha = args.commit.lower()
        commit = commit_from_git(Path.cwd(), sha) or CommitInfo(sha=sha)
        if not commit.sha.startswith(sha):  # git resolved something else; trust the flag
            commit = CommitInfo(sha=sha)
    if commit is None:
        raise UsageError(f"{source}: no commit recorded; pass --commit SHA")
    if args.parent:
        commit = dataclasses.replace(commit, parents=tuple(p.lower() for p in args.parent))
    if args.branch:
        commit = dataclasses.replace(commit, branch=args.branch)
    machine = {**result.machine, "name": args.machine} if args.machine else result.machine
    return dataclasses.replace(result, commit=commit, machine=machine)
