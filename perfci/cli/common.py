"""What several commands share: the --db option, commit flags and refs, the GitHub client."""

from __future__ import annotations

import argparse
import dataclasses
import os
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from perfci.context import resolve_commit, with_git_metadata
from perfci.limits import MACHINE_TEXT, LimitError, check_text
from perfci.results import CommitInfo, ResultsError, RunResult, checked_commit, is_sha
from perfci.store.engine import DEFAULT_URL

if TYPE_CHECKING:
    from perfci.config import Config
    from perfci.github.client import GitHubClient


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
        "--commit",
        metavar="REF",
        help="the commit measured: a sha, branch, tag or HEAD~1 (default: from the file; "
        "git completes what it knows of it)",
    )
    parser.add_argument(
        "--parent", metavar="REF", action="append", help="its parent (repeat for merges)"
    )
    parser.add_argument(
        "--branch",
        metavar="NAME",
        help="the branch it was measured on (default: from the file, else from git)",
    )
    parser.add_argument(
        "--machine", metavar="NAME", help="label for the machine (its hardware fingerprint stays)"
    )


def read_results(path: Path) -> RunResult:
    """The results file at `path` (perfci or pytest-benchmark JSON); ResultsError naming
    it for anything else. Only a regular file is opened: a FIFO or a device would block
    or never end. JSON nested past what the decoder can follow is one line too."""
    from perfci.store.importers import load_results_file

    try:
        mode: int | None = path.stat().st_mode
    except OSError:
        mode = None  # the reader says why it cannot be read
    except ValueError:  # a NUL in the path
        raise ResultsError(f"{str(path)[:80]!r}: not a file name") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise ResultsError(f"{path}: not a regular file")
    try:
        return load_results_file(path)
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None


def pr_number_arg(value: str) -> int:
    """--pr N (an argparse type): a pull-request number in ASCII digits; `int` would take
    '١٢' and str.isdigit '²', which `int` then refuses."""
    from perfci.github.event import ContextError, parse_pr_number

    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a pull-request number")
    try:
        return parse_pr_number(text)
    except ContextError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def github_output(fields: Mapping[str, object]) -> str:
    """`fields` as lines for $GITHUB_OUTPUT: `key=value`, or GitHub's documented
    `key<<DELIMITER` form for a value with a line break, with a delimiter the value does
    not contain, so no value can end its own line and set another output."""
    lines = []
    for key, value in fields.items():
        if not key.isidentifier():
            raise UsageError(f"{key!r} is not an output name")
        text = "" if value is None else str(value)
        if "\n" in text or "\r" in text:
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            lines += [f"{key}<<{delimiter}", text, delimiter]
        else:
            lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def commit_ref(value: str, flag: str) -> str:
    """The commit `value` names: the full sha git resolves it to in the working directory's
    repository, else `value` itself when it is a git sha (a commit this clone lacks)."""
    sha = resolve_commit(Path.cwd(), value)
    if sha is not None:
        return sha
    if is_sha(value.lower()):
        return value.lower()
    raise UsageError(f"{flag} {value[:80]!r} is not a git sha, nor a commit git knows here")


def apply_commit_options(result: RunResult, args: argparse.Namespace, source: str) -> RunResult:
    """`result` with its commit completed from git in the working directory (when git knows
    it) and the command line's commit, parents, branch and machine label applied. The
    branch: --branch, else the file's, else the one git finds."""
    parents = [commit_ref(p, "--parent") for p in args.parent or []]
    commit = result.commit
    if args.commit:
        sha = commit_ref(args.commit, "--commit")
        if commit is None or not sha.startswith(commit.sha):  # another commit than the file's
            commit = CommitInfo(sha=sha, branch=commit.branch if commit else None)
    if commit is None:
        raise UsageError(f"{source}: no commit recorded; pass --commit REF")
    commit = with_git_metadata(Path.cwd(), commit)
    if parents:
        commit = dataclasses.replace(commit, parents=tuple(parents))
    if args.branch:
        commit = dataclasses.replace(commit, branch=args.branch)
    try:
        commit = checked_commit(commit)
    except ResultsError as exc:
        raise ResultsError(f"{source}: {exc}") from None
    machine = result.machine
    if args.machine:
        try:
            check_text(args.machine, "--machine", MACHINE_TEXT["name"])
        except LimitError as exc:
            raise UsageError(str(exc)) from None
        machine = {**machine, "name": args.machine}
    return dataclasses.replace(result, commit=commit, machine=machine)


def add_verdict_options(parser: argparse.ArgumentParser) -> None:
    """--min-effect and --fail-on-regression, for the commands that judge a comparison."""
    from perfci.compare import DEFAULT_MIN_EFFECT

    parser.add_argument(
        "--min-effect",
        type=float,
        default=None,
        help="smallest change worth a verdict, as a fraction (default: perfci.toml's "
        f"min_effect, else {DEFAULT_MIN_EFFECT}; per-benchmark values there win)",
    )
    parser.add_argument("--fail-on-regression", action="store_true")


def verdict_config(args: argparse.Namespace) -> Config:
    """The repository's triage config, with `args.min_effect` resolved from the flag, the
    config, else the default, and checked."""
    from perfci.compare import DEFAULT_MIN_EFFECT
    from perfci.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.min_effect is None:
        args.min_effect = config.min_effect or DEFAULT_MIN_EFFECT
    if not 0 < args.min_effect < 1:
        raise UsageError("--min-effect must be between 0 and 1, e.g. 0.03")
    return config


def github_client(api_url: str) -> GitHubClient:
    """A client for `api_url` with the token from $GITHUB_TOKEN and the first retry's
    delay from $PERFCI_GITHUB_BACKOFF (seconds, doubling each attempt)."""
    from perfci.github.client import GitHubClient, RetryPolicy

    token = os.environ.get("GITHUB_TOKEN", "")
    if not token.strip():
        raise UsageError("$GITHUB_TOKEN is not set")
    try:
        backoff = float(os.environ.get("PERFCI_GITHUB_BACKOFF", "1"))
    except ValueError:
        raise UsageError("$PERFCI_GITHUB_BACKOFF must be a number of seconds") from None
    return GitHubClient(token.strip(), api_url, RetryPolicy(base_delay=max(0.0, backoff)))
