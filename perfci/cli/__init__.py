"""The `perfci` command: one module per subcommand, each a thin wrapper over the library."""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from perfci import __version__

# One module per command, perfci.cli.<name>; a command's module is imported only when it
# runs (or for the full --help), so `perfci doctor` does not load the store or the site.
COMMANDS = (
    "run",
    "ab",
    "confirm",
    "bisect",
    "explain",
    "ingest",
    "compare",
    "detect",
    "runs",
    "history",
    "dashboard",
    "comment",
    "keep",
    "summary",
    "context",
    "rebuild",
    "db",
    "doctor",
)


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"perfci.cli.{name}")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (exit 2), as every perfci error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `only`: with that one command's options (what a run needs)."""
    parser = _Parser(
        prog="perfci",
        description="Continuous performance-regression checks for ML code on Apple Silicon.",
    )
    parser.add_argument("--version", action="version", version=f"perfci {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        _command(name).register(sub)
    return parser


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors that are the user's input: one line on stderr, exit 2."""
    from perfci.cli.common import UsageError
    from perfci.github.client import GitHubError
    from perfci.github.event import ContextError
    from perfci.results import ResultsError
    from perfci.store.engine import StoreError

    return (UsageError, ResultsError, StoreError, GitHubError, ContextError)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 success, 1 a regression (with --fail-on-regression) or failed
    benchmarks, 2 bad input or usage (one line on stderr, nothing written), 3 refused:
    the pull request is not trusted for this commit (`perfci comment`'s trust check)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    _printable_stdout()
    try:
        code = _run(args_list)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except BrokenPipeError:
        return _reader_gone()
    return code


def _run(args_list: list[str]) -> int:
    pytest_args: list[str] = []
    if "--" in args_list:  # everything after -- goes to pytest untouched
        cut = args_list.index("--")
        args_list, pytest_args = args_list[:cut], args_list[cut + 1 :]
    only = args_list[0] if args_list and args_list[0] in COMMANDS else None
    args = build_parser(only).parse_args(args_list)
    args.pytest_args = pytest_args
    try:
        code: int = args.handler(args)
    except BrokenPipeError:
        raise
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"perfci: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perfci: interrupted", file=sys.stderr)
        return 130
    return code


def _printable_stdout() -> None:
    """Text that cannot be encoded (a file name's undecodable bytes come in as lone
    surrogates) is printed backslash-escaped, as stderr already does, not a traceback."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")


def _reader_gone() -> int:
    """Whoever read stdout has gone (`perfci runs | head -1`): stop quietly, as Python's
    documentation recommends: point stdout at devnull so the interpreter's last flush
    cannot fail again. The status is the shell's for a process ended by SIGPIPE, which
    no perfci outcome uses."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE (13)
