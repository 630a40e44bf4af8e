"""A real git repository for `perfci bisect` tests: a tiny benchmark suite whose kernel
gets slower at one commit of a first-parent history, and perfci run on it through its
entry point. Benchmarks are timed in CPU time (`--benchmark-timer=time.process_time` in
the repository's pytest.ini), so what other processes on a shared machine take from the
CPU does not read as a change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PERFCI = shutil.which("perfci", path=str(Path(sys.executable).parent)) or "perfci"
SUITE = """from work import kernel


def test_kernel(benchmark):
    benchmark(kernel, 1000)


def test_steady(benchmark):
    benchmark(sum, range(2000))
"""
WORK = "def kernel(n):\n    return sum(i * i for i in range(n * {factor}))\n"
BROKEN = "import a_module_this_commit_forgot  # noqa: F401\n" + WORK
PYTEST_INI = "[pytest]\naddopts = -p no:hypothesispytest --benchmark-timer=time.process_time\n"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def history(
    root: Path, commits: int, slow_from: int, factor: int = 6, broken: tuple[int, ...] = ()
) -> tuple[Path, list[str]]:
    """A repository of `commits` commits (0: the suite) on main; from commit `slow_from`
    on, kernel() does `factor` times the work; the commits in `broken` fail to import
    work.py. Returns the repository and its shas, oldest first."""
    repo = root / "repo"
    (repo / "suites").mkdir(parents=True)
    (repo / "suites" / "test_work.py").write_text(SUITE)
    (repo / "pytest.ini").write_text(PYTEST_INI)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    shas = []
    for i in range(commits):
        work = BROKEN if i in broken else WORK
        (repo / "work.py").write_text(work.format(factor=factor if i >= slow_from else 1))
        (repo / "NOTES.md").write_text(f"note {i}\n")
        subject = "Kernel and its benchmarks" if i == 0 else f"note {i}"
        if i == slow_from:
            subject = f"kernel does {factor} times the work"
        elif i in broken:
            subject = f"note {i}, importing a module that is not there"
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", subject)
        shas.append(git(repo, "rev-parse", "HEAD"))
    return repo, shas


def perfci(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """perfci's entry point in `repo`, without this test session's pytest or perfci
    settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    clean.pop("CI", None)
    return subprocess.run(
        [PERFCI, *args], cwd=repo, capture_output=True, text=True, timeout=600,
        env={**clean, **(env or {})}, check=False,
    )  # fmt: skip
