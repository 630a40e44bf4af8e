"""pytest's command line as perfci reads it: which arguments are options (with their
values) and which name tests (paths or node ids)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# pytest options whose value is the next argument, which is then no test path.
VALUE_OPTIONS = frozenset(
    ("-k", "-m", "-p", "-o", "-c", "-W", "-r", "-n", "--deselect", "--ignore", "--ignore-glob")
)


def split(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the options, each with its value, in order; the test arguments)."""
    options: list[str] = []
    tests: list[str] = []
    for before, arg in zip(["", *args], args, strict=False):
        if arg.startswith("-") or before in VALUE_OPTIONS:
            options.append(arg)
        else:
            tests.append(arg)
    return options, tests


def targets(args: Sequence[str], root: Path) -> list[str]:
    """The tests the arguments name that exist under `root`; ValueError for one that looks
    like a path (a .py file, a folder, a node id) but is not there."""
    found = []
    for arg in split(args)[1]:
        path = root / arg.split("::")[0]
        if path.exists():
            found.append(arg)
        elif "::" in arg or "/" in arg or arg.endswith(".py"):
            raise ValueError(f"{arg.split('::')[0]} does not exist")
    return found
