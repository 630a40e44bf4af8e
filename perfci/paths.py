"""Where the files shipped beside the code live: in the wheel, or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # A wheel carries the top-level folder inside the package as _<name>; a source
    # checkout (editable install, tests) has it beside the package.
    for candidate in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"perfci is installed without its {name}/ folder")


def migrations_dir() -> Path:
    return _shipped("migrations")


def dashboards_dir() -> Path:
    return _shipped("dashboards")
