"""perf-main measures suspected changes again: its steps' scripts, run as the runner runs
them on a real repository and store (a rise of a fifth over the newest commits, suspected
but not yet an alert), measure the suspected pair in real pytest processes. A real ×2
slowdown is confirmed, and its alert is new in the alerts the next steps bisect and
explain (the explain step profiles it); identical code drops the suspicion; a
confirmation that cannot run does not fail the job. Each outcome is in the job's
summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from test_confirm_command import BEFORE, git, make_history

from perfci.confirm import ROUNDS

WORKFLOW = Path(__file__).parents[1] / ".github" / "workflows" / "perf-main.yml"
DETECT = "Look for change points along main (stored as alerts)"
CONFIRM = "Confirm suspected changes along main"
BISECT = "Bisect the new alerts that name a range of commits"
EXPLAIN = "Explain the new regression alerts"
PERFCI = str(Path(sys.executable).parent / "perfci")


def steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    found: list[dict[str, Any]] = doc["jobs"]["record"]["steps"]
    return found


def run_step(name: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as the runner runs it: bash in the checkout with the step's env."""
    (step,) = [s for s in steps() if s.get("name") == name]
    values = {k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    clean.pop("CI", None)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
        capture_output=True, text=True, timeout=600, env={**clean, **values, **env}, check=False,
    )  # fmt: skip


def runner_env(tmp_path: Path, db: str) -> dict[str, str]:
    return {"PERFCI": PERFCI, "PERFCI_DB": db, "RUNNER_TEMP": str(tmp_path),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}  # fmt: skip


def summary(tmp_path: Path) -> str:
    path = tmp_path / "summary.md"
    return path.read_text() if path.exists() else ""


def alerts(tmp_path: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((tmp_path / "alerts.json").read_text())["alerts"]
    return found


def test_the_confirm_step_follows_detect_and_comes_before_the_bisect_step() -> None:
    names = [s.get("name") for s in steps()]
    assert names.index(DETECT) + 1 == names.index(CONFIRM)
    assert names.index(CONFIRM) + 1 == names.index(BISECT)
    (confirm,) = [s for s in steps() if s.get("name") == CONFIRM]
    assert "${{" not in confirm["run"]  # the script reads only its environment
    assert int(confirm["env"]["BUDGET_S"]) > 0


def test_a_confirmed_slowdown_is_a_new_alert_for_the_next_steps(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=True)
    env = runner_env(tmp_path, db)
    detected = run_step(DETECT, repo, env)
    assert detected.returncode == 0, detected.stderr
    assert alerts(tmp_path) == []  # suspected only: the detector has nothing yet

    confirmed = run_step(CONFIRM, repo, env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "::" not in confirmed.stdout  # no notice nor warning
    (alert,) = [a for a in alerts(tmp_path) if a["metric"] == "latency"]
    assert (alert["commit"], alert["kind"], alert["new"]) == (shas[BEFORE], "regression", True)
    shown = summary(tmp_path)
    assert shown.startswith(f"### Suspected changes measured again ({2 * ROUNDS} runs)\n\n- ")
    assert shown.endswith("\n\n")  # the next step's section starts a block of its own
    assert (
        "- **confirmed**: `suites/test_work::test_kernel` latency on "
        f"`{alert['machine']}`, regression ×" in shown
    )
    assert f"{shas[BEFORE - 1][:10]}..{shas[BEFORE][:10]}: alert ×" in shown
    assert f"at {shas[BEFORE][:10]}" in shown.split(": alert ×", 1)[1]

    explained = run_step(EXPLAIN, repo, env)  # the same job profiles the confirmed alert
    assert explained.returncode == 0, explained.stderr
    assert "not explained" not in explained.stdout
    why = summary(tmp_path).split(shown, 1)[1]  # after the confirm step's section
    assert why.startswith("<details><summary>Why suites/test\\_work::") and "time.sleep" in why
    assert git(repo, "status", "--porcelain") == ""


def test_identical_code_drops_the_suspicion(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=False)
    env = runner_env(tmp_path, db)
    assert run_step(DETECT, repo, env).returncode == 0
    done = run_step(CONFIRM, repo, env)
    assert done.returncode == 0, done.stderr
    assert alerts(tmp_path) == []
    shown = summary(tmp_path)
    assert "- **dropped**: `suites/test_work::test_kernel` latency on " in shown
    assert f"{shas[BEFORE - 1][:10]}..{shas[BEFORE][:10]}" in shown and "alert ×" not in shown
    # why: the paired rounds' change and interval, in the suspected direction
    assert f" over {ROUNDS} paired rounds: the paired rounds do not support a regression" in shown
    assert run_step(BISECT, repo, env).stdout == ""


def test_a_confirmation_that_cannot_run_does_not_fail_the_job(tmp_path: Path) -> None:
    """An empty store: perfci confirm exits 2; the step says so, leaves the alerts as the
    detect step wrote them and writes nothing to the summary."""
    listed = {"format_version": 1, "alerts": [{"id": 3, "new": True}]}
    (tmp_path / "alerts.json").write_text(json.dumps(listed))
    done = run_step(CONFIRM, tmp_path, runner_env(tmp_path, f"sqlite:///{tmp_path / 'perfci.db'}"))
    assert done.returncode == 0
    assert "no runs on branch 'main'" in done.stderr
    assert "::notice::no suspected change measured again (perfci confirm exited 2)" in done.stdout
    assert json.loads((tmp_path / "alerts.json").read_text()) == listed
    assert summary(tmp_path) == ""
