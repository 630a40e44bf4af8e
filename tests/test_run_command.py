"""`perfci run` end to end: a git repository, a suite, the store, the comparison."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_cli import perfci

SUITE = """
import numpy as np
import pytest


@pytest.mark.perf_sizes("n", quick=[32], full=[64])
def test_matmul(perf, n):
    perf.use("numpy")
    a = np.ones((n, n))
    perf(lambda: a @ a, items=n, unit="rows", check=lambda out: np.testing.assert_allclose(out, n))


def test_needs_cuda(perf):
    perf.use("torch", device="cuda")
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "suites").mkdir(parents=True)
    (repo / "suites" / "test_tiny.py").write_text(SUITE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", ".")
    git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-qm",
        "First <b>commit</b>",
    )
    return repo


FAST = ["--", "-p", "no:cacheprovider", "--benchmark-max-time=0.01"]


def test_run_twice_stores_and_compares(repo: Path) -> None:
    first = perfci("run", *FAST, cwd=repo)
    assert first.returncode == 0, first.stdout + first.stderr
    head = git(repo, "rev-parse", "HEAD")
    assert f"run 1 · commit {head[:12]}" in first.stdout
    assert "suites/test_tiny::test_matmul" in first.stdout
    assert "Skipped (1):" in first.stdout and "CUDA not built into this torch" in first.stdout
    assert "No comparison: no earlier run of this commit or its ancestors." in first.stdout
    db = repo / ".perfci" / "perfci.db"
    assert f"Stored run 1 in {db.resolve()}" in first.stdout
    assert len(list((repo / ".perfci" / "results").glob("run-*.json"))) == 1

    second = perfci("run", *FAST, cwd=repo)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Compared with run 1 of this commit:" in second.stdout
    assert "have no verdict yet: their run-to-run noise is unknown" in second.stdout

    (repo / "suites" / "README").write_text("x")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "Second")
    third = perfci("run", *FAST, cwd=repo)
    assert (
        f"Compared with 2 runs (newest: run 2) of its first-parent ancestor {head[:12]}, "
        "1 commit back:" in third.stdout
    )

    listing = perfci("runs", cwd=repo)
    assert listing.stdout.count("First <b>commit</b>") == 2 and "Second" in listing.stdout


def test_a_failing_benchmark_is_stored_and_exits_1(repo: Path) -> None:
    (repo / "suites" / "test_broken.py").write_text(
        "def test_broken(perf):\n    perf(lambda: 1 / 0)\n"
    )
    result = perfci("run", *FAST, cwd=repo)
    assert result.returncode == 1
    assert "Failed (1):" in result.stdout and "ZeroDivisionError" in result.stdout
    assert "run 1 · commit" in result.stdout and "· failed" in result.stdout


def test_without_suites_run_says_what_to_do(tmp_path: Path) -> None:
    result = perfci("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "no ./suites folder here" in result.stderr


@pytest.mark.parametrize(
    ("target", "missing"),
    [
        ("benches/test_typo.py", "benches/test_typo.py"),
        ("test_typo.py", "test_typo.py"),
        ("suites/test_tiny.py::test_matmul", None),  # exists: runs
        ("suites/nope.py::test_x", "suites/nope.py"),
    ],
)
def test_a_test_path_that_does_not_exist_is_named(
    repo: Path, target: str, missing: str | None
) -> None:
    result = perfci("run", "--", "-k", "matmul", "--benchmark-max-time=0.01", target, cwd=repo)
    if missing is None:
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"perfci: error: {missing} does not exist: name the tests to run after --\n"
    )


def test_compare_of_two_runs_of_the_same_code_flags_nothing(repo: Path) -> None:
    for _ in range(2):
        done = perfci("run", *FAST, cwd=repo)
        assert done.returncode == 0, done.stdout + done.stderr
    head = git(repo, "rev-parse", "HEAD")
    result = perfci(
        "compare",
        "--base",
        head,
        "--head",
        head,
        "--format",
        "json",
        "--fail-on-regression",
        cwd=repo,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["baseline"]["runs"]) == 1 and doc["baseline"]["environment_differences"] == []
    verdicts = {c["metric"]: c["verdict"] for c in doc["comparisons"]}
    assert verdicts, result.stdout
    # identical code, one run a side: nothing may be called a regression or an improvement
    assert not {"regression", "improvement"} & set(verdicts.values()), verdicts
    assert set(verdicts.values()) <= {"unchanged", "inconclusive"}, verdicts


def test_run_with_the_full_profile_times_the_plugins_full_rounds(repo: Path) -> None:
    """`perfci run --profile full` names the profile to the plugin, which sets its rounds:
    with a negligible time budget every benchmark gets the profile's minimum rounds."""
    from perfci.measure.profiles import PROFILE_ARGS

    rounds = next(
        int(a.split("=")[1]) for a in PROFILE_ARGS["full"] if a.startswith("--benchmark-min-rounds")
    )
    done = perfci(
        "run", "--profile", "full", "--", "-p", "no:cacheprovider", "-k", "matmul",
        "--benchmark-max-time=0.000001", cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = (repo / ".perfci" / "results").glob("run-*.json")
    doc = json.loads(path.read_text())
    assert doc["run"]["profile"] == "full"
    (bench,) = doc["benchmarks"]
    latency = next(m for m in bench["metrics"] if m["name"] == "latency")
    assert len(latency["samples"]) == rounds
