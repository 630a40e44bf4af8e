"""SQL lives in the store: outside perfci/store/ no module imports sqlalchemy or the ORM
models; everything else reads and writes through the store's functions and dataclasses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "perfci"
STORE = PACKAGE / "store"
FORBIDDEN = ("sqlalchemy", "perfci.store.models")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """The modules of FORBIDDEN (or inside them) that `source`, the text of `module`,
    imports, with the line of each; relative imports are resolved against `module`."""
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                found.append(f"line {node.lineno}: {name}")
                break
    return found


def _violations() -> dict[str, list[str]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(STORE):
            continue
        text = path.read_text()
        found = forbidden_imports(text, _module_name(path), path.name == "__init__.py")
        if found:
            out[path.relative_to(ROOT).as_posix()] = found
    return out


def test_only_the_store_imports_sqlalchemy_or_the_models() -> None:
    assert _violations() == {}


def test_the_walk_covers_the_dashboard() -> None:
    walked = {
        p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py") if not p.is_relative_to(STORE)
    }
    assert {"perfci/dashboard/data.py", "perfci/dashboard/history.py"} <= walked
    assert not any(p.startswith("perfci/store/") for p in walked)


@pytest.mark.parametrize(
    ("source", "module", "caught"),
    [
        ("import sqlalchemy", "perfci.x", True),
        ("import sqlalchemy.orm as orm", "perfci.x", True),
        ("from sqlalchemy import select", "perfci.x", True),
        ("from sqlalchemy.exc import IntegrityError", "perfci.x", True),
        ("from perfci.store.models import Run", "perfci.x", True),
        ("from perfci.store import models", "perfci.dashboard.data", True),
        ("import perfci.store.models", "perfci.x", True),
        ("from ..store.models import Run", "perfci.dashboard.data", True),
        ("from ..store import models", "perfci.dashboard.data", True),
        ("def f():\n    from sqlalchemy import func\n", "perfci.x", True),
        ("if TYPE_CHECKING:\n    from sqlalchemy import Select\n", "perfci.x", True),
        ("from perfci.store import Store", "perfci.x", False),
        ("from perfci.store.catalog import RunSummary", "perfci.x", False),
        ("from ..store import catalog", "perfci.dashboard.data", False),
        ("import sqlalchemy_utils", "perfci.x", False),
        ("x = 'import sqlalchemy'", "perfci.x", False),
    ],
)
def test_forbidden_imports_are_found(source: str, module: str, caught: bool) -> None:
    assert bool(forbidden_imports(source, module)) is caught
