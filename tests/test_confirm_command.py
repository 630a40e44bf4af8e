"""`perfci confirm` through its entry point, on a real SQLite store and a real git
repository whose benchmark is measured in real pytest processes. The history before the
confirmation is the real benchmark's results file, measured once here, stored for each
commit with seeded run-to-run noise (5%) and a rise of a fifth over the newest three commits:
suspected, not yet an alert. Measuring again then decides it: a real ×2 slowdown at
the suspected commit is supported by the paired rounds and raises the alert; identical
code drops the suspicion; and when the rise of the newest commits was the machine's (it
has run the same code a fifth slower since), the rounds as history would raise an alert
at the commit before the suspicion, but paired they show no change: the suspicion is
dropped and the runs stay out of the history."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from perfci.store import open_store
from perfci.store.queries import runs_of_commit

PERFCI = shutil.which("perfci", path=str(Path(sys.executable).parent)) or "perfci"
SUITE = """from work import kernel


def test_kernel(benchmark):
    benchmark(kernel)
"""
# sleeping keeps the level steady on a busy shared machine: a wake-up late by a few
# milliseconds is a few per cent of 0.1 s
WORK = """import time


def kernel():
    time.sleep({seconds})
"""
BEFORE, AFTER = 20, 3  # commits before the change, and from it on
NOW = 0.12  # the drifted machine's sleep: the history's rise of a fifth, for the same code


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    env.pop("CI", None)
    return env


def perfci(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCI, *args], cwd=repo, capture_output=True, text=True, timeout=600, env=_env(),
        check=False,
    )  # fmt: skip


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def _history_file(ref: dict[str, Any], sha: str, parent: str | None, i: int, factor: float) -> str:
    doc = json.loads(json.dumps(ref))
    doc["run"]["run_id"] = str(uuid.uuid4())
    doc["run"]["started_at"] = doc["run"]["finished_at"] = (
        f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00"
    )
    doc["commit"] = {"sha": sha, "parents": [parent] if parent else [], "branch": "main",
                     "subject": f"commit {i}"}  # fmt: skip
    for bench in doc["benchmarks"]:
        for metric in bench["metrics"]:
            scale = factor if metric["name"] == "latency" else 1.0
            metric["samples"] = [s * scale for s in metric["samples"]]
    return json.dumps(doc)


def make_history(
    tmp_path: Path, slower: bool, drifted: bool = False
) -> tuple[Path, str, list[str]]:
    """A repository of BEFORE + AFTER commits whose change (×2, or none) is at commit
    BEFORE, its store with one run a commit from the real results file, and the shas.
    `drifted`: no commit changes the code, which sleeps NOW s: the history's rise is
    the machine's, which ran it a fifth slower from commit BEFORE on, and still does."""
    repo = tmp_path / "repo"
    (repo / "suites").mkdir(parents=True)
    (repo / "suites" / "test_work.py").write_text(SUITE)
    (repo / "work.py").write_text(WORK.format(seconds=NOW if drifted else 0.1))
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:hypothesispytest\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    shas = [_commit(repo, "Kernel and its benchmark")]
    for i in range(1, BEFORE):
        (repo / "README.md").write_text(f"# work, take {i}\n")
        shas.append(_commit(repo, f"README {i}"))
    ref = tmp_path / "ref.json"
    (repo / "work.py").write_text(WORK.format(seconds=0.1))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--perfci-json={ref}", "suites"],
        cwd=repo, capture_output=True, text=True, timeout=300, env=_env(), check=False,
    )  # fmt: skip
    assert ref.is_file(), done.stdout + done.stderr
    (repo / "work.py").write_text(WORK.format(seconds=NOW if drifted else 0.1))
    if slower:
        (repo / "work.py").write_text(WORK.format(seconds=0.2))
    else:
        (repo / "README.md").write_text("# work, the same code\n")
    shas.append(_commit(repo, "kernel sleeps twice as long" if slower else "README again"))
    for i in range(1, AFTER):
        (repo / "NOTES.md").write_text(f"notes {i}\n")
        shas.append(_commit(repo, f"notes {i}"))
    reference = json.loads(ref.read_text())
    rng = random.Random(5)
    files = []
    for i, sha in enumerate(shas):
        factor = rng.lognormvariate(0, 0.05) * (1.2 if i >= BEFORE else 1.0)
        path = tmp_path / "history" / f"{i:02d}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(_history_file(reference, sha, shas[i - 1] if i else None, i, factor))
        files.append(str(path))
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    stored = perfci(repo, "ingest", *files, "--db", db)
    assert stored.returncode == 0, stored.stderr
    before = json.loads(perfci(repo, "detect", "--db", db, "--format", "json").stdout)
    assert before["alerts"] == []  # suspected at most: the detector has nothing yet
    return repo, db, shas


def confirm(repo: Path, db: str, *args: str) -> dict[str, Any]:
    done = perfci(repo, "confirm", "--db", db, "--rounds", "3", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def latency_suspicion(doc: dict[str, Any]) -> dict[str, Any]:
    found = [s for s in doc["suspicions"] if s["metric"] == "latency"]
    assert len(found) == 1, doc
    one: dict[str, Any] = found[0]
    return one


def test_a_real_slowdown_is_confirmed_and_raises_the_alert(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=True)
    doc = confirm(repo, db)
    s = latency_suspicion(doc)
    assert (s["last_good_commit"], s["commit"], s["newest_commit"]) == (
        shas[BEFORE - 1],
        shas[BEFORE],
        shas[-1],
    )
    assert s["kind"] == "regression" and abs(s["statistic"]) < s["threshold"]
    assert s["outcome"] == "confirmed", doc
    paired = s["paired"]
    assert paired["supports"] and paired["rounds"] == 3 and paired["p_value"] <= paired["level"]
    assert 1 < paired["ci"][0] < paired["ratio"] < paired["ci"][1] and paired["ratio"] > 1.5
    assert s["alert"]["commit"] == shas[BEFORE] and s["alert"]["magnitude"] > 1.25
    assert doc["measured"][0]["order"] == "ABBABA" and doc["runs_stored"] == 6
    # the runs are history now: the alert is the branch's, and its runs are the commits'
    detect = json.loads(perfci(repo, "detect", "--db", db, "--format", "json").stdout)
    assert [(a["commit"], a["kind"]) for a in detect["alerts"]] == [(shas[BEFORE], "regression")]
    store = open_store(db)
    try:
        triggers = {sha: [r.trigger for r in runs_of_commit(store, sha)] for sha in shas}
    finally:
        store.close()
    # each round's run: the suspected series as history, its other metrics as A/B runs
    for sha in (shas[BEFORE - 1], shas[-1]):
        assert triggers[sha].count("confirm") == 3 and triggers[sha].count("ab") == 3
    assert sum(t.count("confirm") for t in triggers.values()) == 6
    assert git(repo, "worktree", "list").count("\n") == 0
    assert git(repo, "status", "--porcelain") == ""


def test_identical_code_drops_the_suspicion_and_it_is_not_measured_again(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=False)
    done = perfci(repo, "confirm", "--db", db, "--rounds", "3")
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if " latency on " in x]
    assert line.startswith("  dropped: suites/test_work::test_kernel latency on ")
    assert f" at {shas[BEFORE - 1][:10]}..{shas[BEFORE][:10]} " in line
    evidence = line.rsplit("): ", 1)[1]
    assert evidence.endswith(" over 3 paired rounds: the paired rounds do not support a regression")
    detect = json.loads(perfci(repo, "detect", "--db", db, "--format", "json").stdout)
    assert detect["alerts"] == []
    again = confirm(repo, db)
    assert again["runs_stored"] == 0
    assert all(x["last_good_commit"] != shas[BEFORE - 1] for x in again["suspicions"])


def _as_history(path: Path, into: Path) -> Path:
    """A kept round's results file rewritten as a history run of its commit."""
    doc = json.loads(path.read_text())
    doc["run"]["run_id"] = str(uuid.uuid4())
    doc["run"]["trigger"] = "confirm"
    out = into / f"{path.parent.name}-{path.name}"
    out.write_text(json.dumps(doc))
    return out


def test_rounds_that_do_not_support_the_suspicion_stay_out_of_the_history(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=False, drifted=True)
    doc = confirm(repo, db)
    s = latency_suspicion(doc)
    assert s["last_good_commit"] == shas[BEFORE - 1] and s["newest_commit"] == shas[-1]
    assert s["outcome"] == "dropped" and s["alert"] is None, doc
    assert not s["paired"]["supports"] and 0.9 < s["paired"]["ratio"] < 1.1
    assert "the paired rounds do not support a regression" in s["reason"]
    detect = json.loads(perfci(repo, "detect", "--db", db, "--format", "json").stdout)
    assert detect["alerts"] == []
    store = open_store(db)
    try:
        triggers = [r.trigger for sha in shas for r in runs_of_commit(store, sha)]
    finally:
        store.close()
    assert triggers.count("ab") == 6 and "confirm" not in triggers
    # the same rounds as history: the detector alone reads the commit before's new runs,
    # at the machine's new speed, as a step there and raises an alert; the paired rounds
    # are what kept it from doing so
    copy = tmp_path / "as-history.db"
    shutil.copyfile(tmp_path / "perfci.db", copy)
    kept = sorted((repo / ".perfci" / "confirm" / "results").glob("*/*/round-*.json"))
    assert len(kept) == 6
    into = tmp_path / "as-history"
    into.mkdir()
    files = [str(_as_history(f, into)) for f in kept]
    assert perfci(repo, "ingest", *files, "--db", f"sqlite:///{copy}").returncode == 0
    done = perfci(repo, "detect", "--db", f"sqlite:///{copy}", "--format", "json")
    (alert,) = [a for a in json.loads(done.stdout)["alerts"] if a["metric"] == "latency"]
    assert (alert["commit"], alert["kind"]) == (shas[BEFORE - 1], "regression")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "--rounds"),
        (["--budget", "soon"], "--budget"),
        (["--branch", "nope"], "no runs on branch 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = tmp_path / "perfci.db"
    done = perfci(tmp_path, "confirm", "--db", f"sqlite:///{db}", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if db.exists():  # only a branch that has no runs gets as far as opening the store
        store = open_store(f"sqlite:///{db}")
        try:
            assert runs_of_commit(store, "") == []
        finally:
            store.close()
