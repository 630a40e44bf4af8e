"""`perfci bisect` through its entry point, on real git repositories measured in real
pytest processes: a planted ×6 slowdown is named within ⌈log2 n⌉ + 1 steps and its runs
stored as A/B runs, a commit that fails to import is skipped, and bad input is one line,
exit 2, with nothing stored."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bisect_repo import git, history, perfci
from sqlalchemy import create_engine, text

from perfci.cli.bisect import MAX_ROUNDS


def _db(repo: Path) -> Path:
    return repo.parent / "perfci.db"


def test_a_planted_slowdown_is_named_within_log2_n_plus_one_steps(tmp_path: Path) -> None:
    repo, shas = history(tmp_path, 8, slow_from=5)
    done = perfci(
        repo, "bisect", "--good", shas[0], "--bad", "main", "-k", "kernel", "--min-effect",
        "1.4", "--format", "json", "--db", f"sqlite:///{_db(repo)}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["first_bad"] == {"sha": shas[5], "subject": "kernel does 6 times the work"}
    assert doc["commits"] == 7 and doc["format_version"] == 1
    assert len(doc["steps"]) <= math.ceil(math.log2(8)) + 1
    assert {s["result"] for s in doc["steps"]} <= {"good", "bad"}
    assert doc["range"] == {"good": shas[4], "bad": shas[5], "commits": 1}
    assert "step 1: " in done.stderr and f"round 1/{MAX_ROUNDS}" in done.stderr
    # every run is an A/B run of the good end or a step's commit, never main's history
    engine = create_engine(f"sqlite:///{_db(repo)}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT r.trigger, c.sha FROM runs r JOIN commits c ON c.id = r.commit_id")
        ).all()
    engine.dispose()
    assert {trigger for trigger, _ in rows} == {"ab"}
    assert {sha for _, sha in rows} == {shas[0], *(s["commit"] for s in doc["steps"])}
    assert (
        git(repo, "status", "--porcelain") == "" and git(repo, "worktree", "list").count("\n") == 0
    )


def test_a_commit_that_fails_to_import_is_skipped(tmp_path: Path) -> None:
    """Commits 1-4 after good: the middle one (2) fails to import; its neighbours are
    measured instead, and the slowdown at the bad end (4) is still the answer."""
    repo, shas = history(tmp_path, 5, slow_from=4, broken=(2,))
    done = perfci(
        repo, "bisect", "--good", shas[0], "--bad", shas[4], "-k", "kernel", "--min-effect",
        "1.4", "--db", f"sqlite:///{_db(repo)}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last == f"first bad commit: {shas[4]} kernel does 6 times the work"
    skips = [line for line in done.stdout.splitlines() if " skipped: " in line]
    assert len(skips) == 1, done.stdout + done.stderr
    (skipped,) = skips
    assert shas[2][:12] in skipped and "wrote no results: pytest exited 2" in skipped
    assert done.stdout.count(" good: ") == 2  # its neighbours, 1 and 3


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Four commits with the slowdown at the last, and a side branch merged into main."""
    repo, shas = history(tmp_path_factory.mktemp("bad-input"), 4, slow_from=3)
    git(repo, "checkout", "-q", "-b", "side", shas[1])
    (repo / "SIDE.md").write_text("side\n")
    git(repo, "add", "SIDE.md")
    git(repo, "commit", "-q", "-m", "on the side")
    side = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    return repo, [*shas, side]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--good", "{3}", "--bad", "{0}", "-k", "kernel"], "is not an ancestor of --bad"),
        (["--good", "{4}", "--bad", "main", "-k", "kernel"], "not on the first-parent history"),
        (["--good", "{1}", "--bad", "{1}", "-k", "kernel"], "the same commit"),
        (["--good", "nope", "--bad", "{1}", "-k", "kernel"], "--good 'nope' names no commit"),
        (["--good", "{0}", "--bad", "{3}", "-k", "no_such_benchmark"], "collects no test"),
        (["--good", "{0}", "--bad", "{3}", "-k", " "], "empty expression"),
        (["--good", "{0}", "--bad", "{3}"], "-k SELECTION"),
        (["--good", "{0}", "-k", "kernel"], "--bad REF"),
        (["--good", "{0}", "--bad", "{3}", "-k", "kernel", "--max-rounds", "2"], "at least 3"),
        (["--good", "{0}", "--bad", "{3}", "-k", "kernel", "--budget", "soon"], "--budget"),
        (
            ["--good", "{0}", "--bad", "{3}", "-k", "kernel", "--", "suites/gone.py"],
            "does not exist",
        ),
        (["7", "--good", "{0}"], "not both"),
        (["x7"], "not an alert id"),
        (["7"], "no alert 7"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    small: tuple[Path, list[str]], tmp_path: Path, args: list[str], message: str
) -> None:
    repo, shas = small
    db = tmp_path / "perfci.db"
    done = perfci(repo, "bisect", "--db", f"sqlite:///{db}", *(a.format(*shas) for a in args))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if not args[0].isdigit():
        assert not db.exists()  # an alert's bisection reads the store; the others never open it


def test_adjacent_ends_need_no_step(small: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, shas = small
    done = perfci(repo, "bisect", "--good", shas[2], "--bad", shas[3], "-k", "kernel",
                  "--db", f"sqlite:///{tmp_path / 'perfci.db'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith(f"first bad commit: {shas[3]} ")
    assert "0 step(s) measured" in done.stdout
