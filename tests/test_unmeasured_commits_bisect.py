"""An alert after a push of several commits has its range, and `perfci bisect ALERT_ID`
finds the commit in it: a real repository whose kernel does 20 times the work from the
second commit of a four-commit push, measured in real pytest processes (the push's head
by `perfci run` as perf-main runs it), the CLI through its entry point, a real SQLite
store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bisect_repo import git, history, perfci
from sqlalchemy import create_engine, text


def _measure(repo: Path, sha: str, out: Path) -> Path:
    """One real pytest run of the kernel's benchmark at `sha`, its perfci results file."""
    git(repo, "checkout", "-q", sha)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    clean.pop("CI", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--perfci-json={out}",
         "--perfci-profile=quick", "-k", "kernel", "suites"],
        cwd=repo, capture_output=True, text=True, timeout=300, env=clean, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.slow
def test_a_push_of_four_commits_is_bisected_to_its_second(tmp_path: Path) -> None:
    repo, shas = history(tmp_path, 9, slow_from=6, factor=20)  # the push: 5, 6 (×20), 7, 8
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    before = [
        _measure(repo, shas[i], tmp_path / f"before-{i}-{r}.json")
        for i in (1, 2, 3, 4)
        for r in range(3)
    ]
    stored = perfci(repo, "ingest", *map(str, before), "--db", url)
    assert stored.returncode == 0, stored.stderr

    git(repo, "checkout", "-q", "main")
    push = {"GITHUB_EVENT_NAME": "push", "GITHUB_SHA": shas[8], "GITHUB_REF_NAME": "main"}
    ran = perfci(repo, "run", "--db", url, "--", "-k", "kernel", env=push)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # six runs of the head in all: run medians of this kernel move by up to ×1.5, and
    # behind one commit of three runs a step is found surely only at about 18 times the
    # noise, behind two at about 12 (QUALITY.md, short histories)
    again = [_measure(repo, shas[8], tmp_path / f"head-{r}.json") for r in range(5)]
    assert perfci(repo, "ingest", *map(str, again), "--db", url).returncode == 0

    detected = perfci(repo, "detect", "--db", url, "--format", "json")
    assert detected.returncode == 0, detected.stderr
    alerts = json.loads(detected.stdout)["alerts"]
    kernel = [a for a in alerts if a["metric"] == "latency" and "test_kernel" in a["benchmark"]]
    assert len(kernel) == 1, detected.stdout
    (alert,) = kernel
    assert (alert["kind"], alert["last_good_commit"], alert["commit"]) == (
        "regression", shas[4], shas[8],
    )  # fmt: skip
    assert alert["magnitude"] > 3 and alert["new"]

    bisected = perfci(repo, "bisect", str(alert["id"]), "--db", url)
    assert bisected.returncode == 0, bisected.stdout + bisected.stderr
    answer = bisected.stdout.strip().splitlines()[-1]
    assert answer == f"first bad commit: {shas[6]} kernel does 20 times the work"
    assert f"alert {alert['id']}: bisected to {shas[6][:12]}" in bisected.stderr

    shown = perfci(repo, "detect", "--db", url)
    assert shown.returncode == 0, shown.stderr
    (line,) = [row for row in shown.stdout.splitlines() if f"#{alert['id']} " in row]
    assert f"at {shas[4][:10]}..{shas[8][:10]}, bisected to {shas[6][:10]}:" in line
    engine = create_engine(url)
    with engine.connect() as conn:  # the push's unmeasured commits: A/B runs of the steps only
        triggers = conn.execute(
            text("SELECT c.sha, r.trigger FROM commits c LEFT JOIN runs r ON r.commit_id = c.id")
        ).all()
    engine.dispose()
    assert {t for sha, t in triggers if sha in shas[5:8]} <= {None, "ab"}
    assert {sha for sha, _ in triggers} == set(shas)
