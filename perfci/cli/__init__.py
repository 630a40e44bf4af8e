"""The `perfci` command: one module per subcommand, each a thin wrapper over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from perfci import __version__
from perfci.cli import (
    comment,
    compare,
    context,
    dashboard,
    db,
    detect,
    doctor,
    history,
    ingest,
    keep,
    rebuild,
    run,
    runs,
    summary,
)
from perfci.cli.common import UsageError
from perfci.github.client import GitHubError
from perfci.github.event import ContextError
from perfci.results import ResultsError
from perfci.store.engine import StoreError

COMMANDS = (
    run,
    ingest,
    compare,
    detect,
    runs,
    history,
    dashboard,
    comment,
    keep,
    summary,
    context,
    rebuild,
    db,
    doctor,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfci",
        description="Continuous performance-regression checks for ML code on Apple Silicon.",
    )
    parser.add_argument("--version", action="version", version=f"perfci {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 success, 1 a regression (with --fail-on-regression) or failed
    benchmarks, 2 bad input or usage (one line on stderr, nothing written)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    pytest_args: list[str] = []
    if "--" in args_list:  # everything after -- goes to pytest untouched
        cut = args_list.index("--")
        args_list, pytest_args = args_list[:cut], args_list[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(args_list)
    args.pytest_args = pytest_args
    try:
        code: int = args.handler(args)
    except (UsageError, ResultsError, StoreError, GitHubError, ContextError) as exc:
        print(f"perfci: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perfci: interrupted", file=sys.stderr)
        return 130
    return code
