"""`perfci ingest` takes commit metadata from git: real repositories, real pytest-benchmark
and plugin files, a real SQLite store, the CLI through its entry point."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import run, sha, write
from test_cli import perfci

from perfci.results import CommitInfo

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV, "HOME": str(repo)},
    )
    return done.stdout.strip()


def commit(repo: Path, subject: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", subject)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


BENCH = """
def test_sum(benchmark):
    benchmark(sum, range(200))
"""


def pytest_run(cwd: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def pb_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real pytest-benchmark JSON document, written inside a git checkout."""
    repo = new_repo(tmp_path_factory.mktemp("pb") / "repo")
    (repo / "test_bench.py").write_text(BENCH)
    git(repo, "add", ".")
    commit(repo, "bench")
    pytest_run(repo, "-p", "no:perfci", "--benchmark-max-time=0.01", "--benchmark-json=out.json")
    doc: dict[str, Any] = json.loads((repo / "out.json").read_text())
    return doc


def pb_file(
    template: dict[str, Any], path: Path, commit_id: str, day: int, latency: float, **info: Any
) -> Path:
    """The template as if measured at `commit_id` on day `day`, with 20 samples."""
    doc = copy.deepcopy(template)
    doc["commit_info"] = {**doc["commit_info"], "id": commit_id, **info}
    doc["datetime"] = f"2026-11-{day:02d}T10:00:00+00:00"
    for bench in doc["benchmarks"]:
        bench["stats"]["data"] = [latency * (1 + 0.002 * ((i * 7) % 5)) for i in range(20)]
    path.write_text(json.dumps(doc))
    return path


def stored_commits(db: Path) -> dict[str, tuple[str | None, str | None, list[str]]]:
    """sha → (branch, subject, parents) as the store holds them."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT id, sha, branch, subject FROM commits").fetchall()
        parents = conn.execute(
            "SELECT commit_id, parent_sha FROM commit_parents ORDER BY position"
        ).fetchall()
    finally:
        conn.close()
    return {
        s: (branch, subject, [p for cid, p in parents if cid == id_])
        for id_, s, branch, subject in rows
    }


def test_the_shape_of_pytest_benchmark_json_is_what_the_importer_reads(
    pb_template: dict[str, Any],
) -> None:
    info = pb_template["commit_info"]
    assert set(info) >= {"id", "branch", "time", "dirty", "project"}
    assert (info["branch"], len(info["id"])) == ("main", 40)
    machine = pb_template["machine_info"]
    assert set(machine) >= {"node", "processor", "machine", "python_implementation", "system"}
    assert {"brand_raw", "count", "arch"} <= set(machine["cpu"])


def test_pytest_benchmark_files_get_their_history_from_git(
    tmp_path: Path, pb_template: dict[str, Any]
) -> None:
    """Without --commit: parents, subjects and the branch come from git, so detect sees
    the first-parent history and finds the step."""
    repo = new_repo(tmp_path / "repo")
    shas = [commit(repo, f"change {i}") for i in range(20)]
    files = []
    for i, c in enumerate(shas):
        latency = 1.3e-3 if i >= 14 else 1e-3
        # half the files say no branch (a detached checkout): git tells it
        extra = {"branch": "(detached head)"} if i % 2 else {}
        files.append(pb_file(pb_template, tmp_path / f"pb{i:02d}.json", c, i + 1, latency, **extra))
    db = tmp_path / "perfci.db"
    url = f"sqlite:///{db}"
    done = perfci("ingest", *map(str, files), "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    commits = stored_commits(db)
    assert commits[shas[5]] == ("main", "change 5", [shas[4]])
    assert commits[shas[0]] == ("main", "change 0", [])

    found = perfci("detect", "--db", url, "--format", "json", cwd=repo)
    assert found.returncode == 0, found.stderr
    alerts = [a for a in json.loads(found.stdout)["alerts"] if a["kind"] == "regression"]
    assert [a["commit"] for a in alerts] == [shas[14]], found.stdout


def test_with_commit_the_files_branch_is_kept(tmp_path: Path, pb_template: dict[str, Any]) -> None:
    repo = new_repo(tmp_path / "repo")
    first = commit(repo, "one")
    second = commit(repo, "two")
    git(repo, "checkout", "-q", "--detach", first)  # git alone could not name the branch
    path = pb_file(pb_template, tmp_path / "pb.json", "unversioned", 1, 1e-3, branch="main")
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    done = perfci("ingest", str(path), "--commit", "main", "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert stored_commits(tmp_path / "perfci.db")[second] == ("main", "two", [first])
    found = perfci("detect", "--db", url, cwd=repo)
    assert found.returncode == 0, found.stderr  # not "no runs on branch 'main'"


def test_explicit_flags_win_over_the_file_and_git(
    tmp_path: Path, pb_template: dict[str, Any]
) -> None:
    repo = new_repo(tmp_path / "repo")
    first = commit(repo, "one")
    second = commit(repo, "two")
    path = pb_file(pb_template, tmp_path / "pb.json", second, 1, 1e-3, branch="feature")
    db = tmp_path / "perfci.db"
    done = perfci(
        "ingest",
        str(path),
        "--commit",
        "HEAD",
        "--parent",
        "HEAD~1",
        "--branch",
        "release",
        "--db",
        f"sqlite:///{db}",
        cwd=repo,
    )
    assert done.returncode == 0, done.stderr
    assert stored_commits(db)[second] == ("release", "two", [first])


def test_a_perfci_file_with_a_bare_commit_is_completed_from_git(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    base = commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit(repo, "Speed <up>")
    git(repo, "checkout", "-q", "main")
    result = run(commit=head)
    bare = result.__class__(**{**result.__dict__, "commit": CommitInfo(sha=head[:12])})
    db = tmp_path / "perfci.db"
    done = perfci(
        "ingest", str(write(bare, tmp_path / "r.json")), "--db", f"sqlite:///{db}", cwd=repo
    )
    assert done.returncode == 0, done.stderr
    # the full sha, its parent and subject from git; the branch whose first-parent
    # history holds it (HEAD is elsewhere); the parent, unmeasured, as a commit of it
    assert stored_commits(db) == {
        head: ("feature", "Speed <up>", [base]),
        base: ("feature", "base", []),
    }


def test_a_commit_git_does_not_know_keeps_what_the_file_says(
    tmp_path: Path, pb_template: dict[str, Any]
) -> None:
    repo = new_repo(tmp_path / "repo")
    commit(repo, "one")
    elsewhere = sha("not in this clone")
    path = pb_file(pb_template, tmp_path / "pb.json", elsewhere, 1, 1e-3, branch="topic")
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    for cwd, name in ((repo, "in-repo.db"), (outside, "outside.db")):
        db = tmp_path / name
        done = perfci("ingest", str(path), "--db", f"sqlite:///{db}", cwd=cwd)
        assert done.returncode == 0, done.stderr
        assert stored_commits(db) == {elsewhere: ("topic", None, [])}
    # a ref only git could resolve, outside git: one line, exit 2
    refused = perfci("ingest", str(path), "--commit", "HEAD~1", "--db", "sqlite://", cwd=outside)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "--commit 'HEAD~1' is not a git sha, nor a commit git knows here" in refused.stderr


def test_one_machine_is_one_machine_whichever_route_recorded_it(tmp_path: Path) -> None:
    """The plugin's perfci JSON and pytest-benchmark's JSON of the same benchmark, on this
    machine: one machine row, one environment, and a comparison between them that is
    not refused."""
    repo = new_repo(tmp_path / "repo")
    (repo / "test_bench.py").write_text(BENCH)
    git(repo, "add", ".")
    commit(repo, "bench")
    pytest_run(repo, "--benchmark-max-time=0.01", "--perfci-json=perfci.json")
    pytest_run(repo, "-p", "no:perfci", "--benchmark-max-time=0.01", "--benchmark-json=pb.json")
    db = tmp_path / "perfci.db"
    url = f"sqlite:///{db}"
    done = perfci("ingest", "pb.json", "perfci.json", "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    try:
        machines = conn.execute("SELECT name, fingerprint, memory_bytes FROM machines").fetchall()
        environments = conn.execute("SELECT packages FROM environments").fetchall()
        sources = conn.execute("SELECT source FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()
    assert len(machines) == 1, machines
    assert machines[0][2] is not None or not sys.platform.startswith("linux")  # full description
    assert len(environments) == 1, environments
    assert json.loads(environments[0][0])["numpy"] is not None  # package versions known
    assert sources == [("pytest-benchmark",), ("perfci",)]
    compared = perfci(
        "compare", "--base", "HEAD", "--head", "HEAD", "--format", "json", "--db", url, cwd=repo
    )
    assert compared.returncode == 0, compared.stderr
    doc = json.loads(compared.stdout)
    # pytest-benchmark's file, written last, is the head; the plugin's run its base
    assert doc["baseline"]["runs"] == [2] and doc["baseline"]["environment_differences"] == []
    assert doc["baseline"]["reason"] == "run 2 of this commit"
    assert {c["benchmark"] for c in doc["comparisons"]} == {"test_bench::test_sum"}


def test_a_file_from_another_python_keeps_the_machine_but_not_the_packages(
    tmp_path: Path, pb_template: dict[str, Any]
) -> None:
    """Written by another interpreter (another build), the file's packages are unknown:
    its environment holds what the file says, while the hardware is still this machine."""
    from perfci.environment import current_machine
    from perfci.store.importers import load_results_file

    doc = copy.deepcopy(pb_template)
    doc["machine_info"]["python_build"] = ["main", "Jan  1 2020 00:00:00"]
    path = tmp_path / "other.json"
    path.write_text(json.dumps(doc))
    result = load_results_file(path)
    assert result.machine == current_machine().as_dict()  # same host: this machine
    assert result.environment["packages"] == {}
    assert result.environment["python_version"] == doc["machine_info"]["python_version"]


def test_a_file_from_another_host_is_a_machine_of_its_own(
    tmp_path: Path, pb_template: dict[str, Any]
) -> None:
    """machine_info cannot tell GPU cores or memory: a file written elsewhere is never
    taken for this machine, or for any fuller description of the same chip."""
    from perfci.environment import current_machine
    from perfci.store.importers import load_results_file

    doc = copy.deepcopy(pb_template)
    doc["machine_info"]["node"] = "another-runner"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(doc))
    result = load_results_file(path)
    assert result.machine["name"] == "another-runner"
    assert result.machine["fingerprint"] != current_machine().fingerprint
    assert result.machine["memory_bytes"] is None and result.environment["packages"] == {}
