"""Commands that take a commit take any git ref: resolved by git in the working directory,
else matched as a sha prefix in the store; a ref that names nothing is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import run, sha, write
from test_cli import perfci
from test_ingest_git import commit, git, new_repo

from perfci.context import branch_of, resolve_commit


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """A repository with three commits on main, each with two stored runs."""
    repo = new_repo(tmp_path / "repo")
    shas = [commit(repo, f"c{i}") for i in range(3)]
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    files = [
        write(
            run(commit=c, started_at=f"2026-11-0{i + 1}T1{k}:00:00+00:00"),
            tmp_path / f"{i}{k}.json",
        )
        for i, c in enumerate(shas)
        for k in range(2)
    ]
    done = perfci("ingest", *map(str, files), "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    return repo, url, shas


def test_compare_takes_refs(history: tuple[Path, str, list[str]]) -> None:
    repo, url, shas = history
    done = perfci(
        "compare", "--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--db", url, cwd=repo
    )
    assert done.returncode == 0, done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert baseline["runs"][:2] == [4, 3]  # the runs of HEAD~1, newest first
    # the walk starts at the merge-base, HEAD~1, and goes down its first parents
    assert baseline["reason"] == (
        f"4 runs (newest: run 4) of commit {shas[1][:12]} to commit {shas[0][:12]}, "
        f"1 commit before {shas[1][:12]} along first parents"
    )
    by_branch = perfci("compare", "--base", "main~2", "--head", "main", "--db", url, cwd=repo)
    assert by_branch.returncode == 0, by_branch.stderr
    assert f"2 runs (newest: run 2) of commit {shas[0][:12]}:" in by_branch.stdout
    same = perfci("compare", "--base", "HEAD", "--head", "HEAD", "--db", url, cwd=repo)
    assert "Compared with 5 runs (newest: run 5) of this commit to its first-parent ancestor " in (
        same.stdout
    )
    assert f"{shas[0][:12]}, 2 commits back:" in same.stdout
    by_prefix = perfci(
        "compare", "--base", shas[0][:8], "--head", shas[2][:10], "--db", url, cwd=repo
    )
    assert by_prefix.returncode == 0, by_prefix.stderr


def test_a_sha_git_does_not_know_is_matched_in_the_store(
    history: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    _, url, shas = history
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = perfci("compare", "--base", shas[1][:7], "--head", shas[2][:7], "--db", url, cwd=outside)
    assert done.returncode == 0, done.stderr
    assert "Compared with" in done.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--base", "HEAD~1", "--head", "nosuchbranch"],
            "--head 'nosuchbranch' names no commit: git does not know it here",
        ),
        (
            ["--base", "nosuch", "--head", "HEAD"],
            "--base 'nosuch' names no commit: git does not know it here",
        ),
        (["--base", "HEAD", "--head", "abcdef12"], "--head 'abcdef12' has no stored run in "),
        (["--base", "HEAD~1", "--head=-x"], "--head '-x' names no commit"),
    ],
)
def test_a_ref_that_names_nothing_is_one_line(
    history: tuple[Path, str, list[str]], flags: list[str], message: str
) -> None:
    repo, url, _ = history
    done = perfci("compare", *flags, "--db", url, cwd=repo)
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_commit_git_knows_without_runs_is_named(history: tuple[Path, str, list[str]]) -> None:
    repo, url, _ = history
    new = commit(repo, "not measured")
    done = perfci("compare", "--base", "HEAD~1", "--head", "HEAD", "--db", url, cwd=repo)
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"perfci: error: --head 'HEAD' (commit {new[:12]}) has no stored run in "
    )


def test_ingest_and_context_take_refs(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    first = commit(repo, "one")
    second = commit(repo, "two")
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    path = write(run(commit=sha("file's")), tmp_path / "r.json")
    done = perfci(
        "ingest", str(path), "--commit", "HEAD", "--parent", "main~1", "--db", url, cwd=repo
    )
    assert done.returncode == 0, done.stderr
    listing = perfci("runs", "--db", url, cwd=repo)
    assert second[:12] in listing.stdout and "two" in listing.stdout
    context = perfci("context", "--base", "HEAD~1", "--head", "HEAD", "--format", "json", cwd=repo)
    assert context.returncode == 0, context.stderr
    doc = json.loads(context.stdout)
    assert (doc["base_sha"], doc["head_sha"], doc["merge_base"]) == (first, second, first)


def test_resolve_commit_and_branch_of(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    root = commit(repo, "root")
    git(repo, "checkout", "-q", "-b", "feature")
    topic = commit(repo, "topic")
    git(repo, "checkout", "-q", "main")
    trunk = commit(repo, "trunk")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    merge = git(repo, "rev-parse", "HEAD")
    assert resolve_commit(repo, "HEAD^2") == topic
    assert resolve_commit(repo, "main~1") == trunk
    assert resolve_commit(repo, root[:7]) == root
    assert resolve_commit(repo, "nosuch") is None and resolve_commit(repo, "--all") is None
    assert branch_of(repo, merge) == "main"  # HEAD, on main
    assert branch_of(repo, trunk) == "main"
    assert branch_of(repo, topic) == "feature"  # merged in, but not on main's first parents
    assert branch_of(repo, root) == "main"  # on both: the trunk
    git(repo, "checkout", "-q", "--detach", "HEAD")
    git(repo, "branch", "-q", "-D", "feature")
    assert branch_of(repo, topic) is None  # no branch holds it along first parents
    assert resolve_commit(tmp_path, "HEAD") is None  # outside git
