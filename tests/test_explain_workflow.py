"""perf-main explains its new regression alerts: the step's script, run as the runner
runs it on a real repository with a planted extra matmul, profiles the alert's test on
the alert's previous commit and its own and writes the why section (naming `aten::mm`)
to the job's summary; other alerts are left alone, and a test that cannot be profiled
does not fail the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_ab_command import git
from test_ab_explain import planted_matmul_repo

pytest.importorskip("torch", reason="the planted regression is a torch workload")

WORKFLOW = Path(__file__).parents[1] / ".github" / "workflows" / "perf-main.yml"
BISECT = "Bisect the new alerts that name a range of commits"
EXPLAIN = "Explain the new regression alerts"


def steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    found: list[dict[str, Any]] = doc["jobs"]["record"]["steps"]
    return found


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in steps() if s.get("name") == name]
    return found


def alert(commit: str, **kw: Any) -> dict[str, Any]:
    fields = {
        "id": 4, "benchmark": 'suites/test_work::test_matmul[{"backend":"torch","device":"cpu"}]',
        "metric": "latency", "commit": commit, "last_good_commit": None, "kind": "regression",
        "shape": "step", "magnitude": 1.9, "new": True,
    }  # fmt: skip
    return {**fields, **kw}


def run_step(repo: Path, tmp_path: Path, alerts: list[dict[str, Any]]) -> tuple[Any, str]:
    """The step's script as the runner runs it: bash in the checkout with the step's env;
    what it wrote to the job's summary."""
    (tmp_path / "alerts.json").write_text(json.dumps({"format_version": 1, "alerts": alerts}))
    summary = tmp_path / "summary.md"
    found = step(EXPLAIN)
    values = {k: str(v) for k, v in found.get("env", {}).items() if "${{" not in str(v)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    env = {**clean, **values, "PERFCI": str(Path(sys.executable).parent / "perfci"),
           "RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]], cwd=repo,
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    return done, summary.read_text() if summary.exists() else ""


def test_the_explain_step_follows_the_bisect_step_and_comes_before_the_gate() -> None:
    names = [s.get("name") for s in steps()]
    assert names.index(BISECT) + 1 == names.index(EXPLAIN)
    assert names.index(EXPLAIN) < names.index("Gate on regressions")
    explain = step(EXPLAIN)
    assert "${{" not in explain["run"]  # the script reads only its environment
    assert int(explain["env"]["BUDGET_S"]) > 0


def test_a_new_regression_alert_is_explained_in_the_summary(tmp_path: Path) -> None:
    repo = planted_matmul_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD")
    others = [alert(head, id=5, kind="improvement"), alert(head, id=6, new=False)]
    done, summary = run_step(repo, tmp_path, [alert(head), *others])
    assert done.returncode == 0, done.stderr
    assert summary.startswith("<details><summary>Why suites/test\\_work::")
    assert "| `aten::mm` |" in summary and "calls 1 → 2" in summary
    assert summary.count("<details>") == 1  # the other alerts were not profiled
    assert git(repo, "status", "--porcelain") == ""


def test_alerts_without_a_regression_explain_nothing(tmp_path: Path) -> None:
    done, summary = run_step(tmp_path, tmp_path, [alert("a" * 40, kind="improvement")])
    assert (done.returncode, done.stdout, done.stderr, summary) == (0, "", "", "")


def test_a_test_that_cannot_be_profiled_does_not_fail_the_job(tmp_path: Path) -> None:
    repo = planted_matmul_repo(tmp_path / "repo")
    gone = alert(git(repo, "rev-parse", "HEAD"), benchmark="suites/test_work::test_gone")
    done, summary = run_step(repo, tmp_path, [gone])
    assert done.returncode == 0 and summary == ""
    assert "alert 4: not explained (perfci explain exited 2)" in done.stdout
