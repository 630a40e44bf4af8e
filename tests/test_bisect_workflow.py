"""perf-main bisects the new alerts that name a range: its steps' scripts, run as the
runner runs them on a real repository and store, find the planted slowdown's commit
and store it on the alert; alerts without a range are left alone, and a bisection
that cannot decide does not fail the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bisect_repo import history, perfci

from perfci.results import BenchmarkResult, Metric
from perfci.store import open_store
from perfci.store.bisect_rows import alert_range
from perfci.store.ingest import ingest_runs
from tests import factories

WORKFLOW = Path(__file__).parents[1] / ".github" / "workflows" / "perf-main.yml"
DETECT = "Look for change points along main (stored as alerts)"
BISECT = "Bisect the new alerts that name a range of commits"


def _steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    steps: list[dict[str, Any]] = doc["jobs"]["record"]["steps"]
    return steps


def _step(name: str) -> dict[str, Any]:
    (found,) = [s for s in _steps() if s.get("name") == name]
    return found


def test_the_bisect_step_follows_detect_and_comes_before_the_gate() -> None:
    names = [s.get("name") or s.get("id") or s.get("uses") for s in _steps()]
    assert names.index("perfci") < names.index(DETECT) < names.index(BISECT)
    assert names.index(BISECT) < names.index("Gate on regressions")
    bisect = _step(BISECT)
    assert "${{" not in bisect["run"]  # the script reads only its environment
    assert int(bisect["env"]["BUDGET_S"]) > 0


def _run_step(name: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as the runner runs it: bash in the checkout with the step's env."""
    step = _step(name)
    values = {k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
        capture_output=True, text=True, timeout=600, env={**clean, **values, **env}, check=False,
    )  # fmt: skip


def _kernel(latency: float, seed: int) -> BenchmarkResult:
    samples = factories.samples(latency, spread=0.01, seed=seed)
    return BenchmarkResult(
        "suites/test_work", "test_kernel", {}, (Metric("latency", "s", "lower", samples),)
    )


def _measured_at_both_ends(url: str, shas: list[str]) -> None:
    """A store with 12 runs of the first commit's kernel and 4 of the last's (6× slower),
    none of the commits between: those are stored through one run each of another
    benchmark, so that the store knows main's first-parent history between the ends
    (history mode walks the stored chain)."""
    runs = []
    for i, sha in enumerate(shas):
        parents = (shas[i - 1],) if i else ()
        count = 12 if i == 0 else 4 if i == len(shas) - 1 else 1
        for r in range(count):
            at = f"2026-11-01T{i:02d}:{r:02d}:00+00:00"
            bench = _kernel(1e-4 * (6 if i == len(shas) - 1 else 1), seed=i * 100 + r)
            if 0 < i < len(shas) - 1:
                bench = factories.benchmark(name="test_unrelated", seed=i)
            runs.append(
                factories.run(commit=sha, parents=parents, benchmarks=(bench,), started_at=at)
            )
    store = open_store(url)
    ingest_runs(store, runs)
    store.close()


def test_perf_main_bisects_a_new_alert_with_a_range(tmp_path: Path) -> None:
    repo, shas = history(tmp_path, 8, slow_from=5)
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    _measured_at_both_ends(url, shas)
    env = {"PERFCI": str(Path(sys.executable).parent / "perfci"), "PERFCI_DB": url,
           "RUNNER_TEMP": str(tmp_path)}  # fmt: skip
    detected = _run_step(DETECT, repo, env)
    assert detected.returncode == 0, detected.stderr
    (alert,) = [a for a in json.loads(detected.stdout)["alerts"] if a["kind"] == "regression"]
    assert (alert["last_good_commit"], alert["commit"], alert["new"]) == (shas[0], shas[7], True)

    bisected = _run_step(BISECT, repo, env)
    assert bisected.returncode == 0, bisected.stderr
    assert f"first bad commit: {shas[5]} kernel does 6 times the work" in bisected.stdout
    store = open_store(url)
    found = alert_range(store, alert["id"])
    store.close()
    assert found is not None and found.bisected == shas[5]
    shown = perfci(repo, "detect", "--db", url)
    assert (
        f"#{alert['id']} regression" in shown.stdout
        and f"bisected to {shas[5][:10]}" in shown.stdout
    )

    again = _run_step(DETECT, repo, env)  # the next push: nothing new, nothing bisected
    assert _run_step(BISECT, repo, env).stdout == "" and again.returncode == 0


@pytest.mark.parametrize("alerts", [[], [{"id": 3, "new": True, "last_good_commit": None,
                                          "shape": "step", "kind": "regression"}]])  # fmt: skip
def test_alerts_without_a_range_are_not_bisected(
    tmp_path: Path, alerts: list[dict[str, Any]]
) -> None:
    (tmp_path / "alerts.json").write_text(json.dumps({"format_version": 1, "alerts": alerts}))
    env = {"PERFCI": str(Path(sys.executable).parent / "perfci"), "RUNNER_TEMP": str(tmp_path),
           "PERFCI_DB": f"sqlite:///{tmp_path / 'perfci.db'}"}  # fmt: skip
    done = _run_step(BISECT, tmp_path, env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_bisection_that_fails_does_not_fail_the_job(tmp_path: Path) -> None:
    """An alert id the store lacks: perfci bisect exits 2; the step says so and goes on."""
    alert = {
        "id": 99,
        "new": True,
        "last_good_commit": "a" * 40,
        "shape": "step",
        "kind": "regression",
    }
    (tmp_path / "alerts.json").write_text(json.dumps({"format_version": 1, "alerts": [alert]}))
    env = {"PERFCI": str(Path(sys.executable).parent / "perfci"), "RUNNER_TEMP": str(tmp_path),
           "PERFCI_DB": f"sqlite:///{tmp_path / 'perfci.db'}"}  # fmt: skip
    done = _run_step(BISECT, tmp_path, env)
    assert done.returncode == 0
    assert "no alert 99" in done.stderr and "perfci bisect exited 2" in done.stdout
