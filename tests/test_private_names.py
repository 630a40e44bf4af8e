"""The tests' shared helpers (tests/*.py that are not test modules) keep their internals:
no module under tests/ imports another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
HELPERS = frozenset(p.stem for p in TESTS.glob("*.py") if not p.stem.startswith("test_"))


def private_imports(source: str) -> list[str]:
    """`module.name` for each private name `source` imports from a helper module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in HELPERS:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_test_module_imports_a_helpers_private_name() -> None:
    found = {p.name: private_imports(p.read_text()) for p in sorted(TESTS.glob("*.py"))}
    assert {name: names for name, names in found.items() if names} == {}


def test_private_imports_are_found() -> None:
    assert "github_server" in HELPERS and "hostile" in HELPERS
    assert private_imports("from github_server import PAGE, _handler\n") == [
        "github_server._handler"
    ]
    assert private_imports("def f():\n    from hostile import _x\n") == ["hostile._x"]
    assert private_imports("from github_server import fake_github\n") == []
    assert private_imports("from os import _exit\n") == []
