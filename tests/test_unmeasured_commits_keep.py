"""perf-main keeps its confirmation runs on perfci-data beside main's runs: the confirm
step's very bash, run as the runner runs it on a real repository and store, leaves each
run it stored there as a results file of trigger confirm, and a store rebuilt from
perfci-data (the dashboard's) has the runs and the alert they confirmed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_confirm_command import BEFORE, make_history, perfci
from test_confirm_workflow import CONFIRM, DETECT, alerts, run_step, runner_env, steps

from perfci.store import open_store
from perfci.store.importers import load_results_file
from perfci.store.queries import list_runs


def _runs(url: str) -> dict[str, list[tuple[str, int]]]:
    """trigger → the stored runs' commits and measurement counts, oldest first."""
    store = open_store(url)
    try:
        found: dict[str, list[tuple[str, int]]] = {}
        for r in sorted(list_runs(store, 1000), key=lambda r: (r.started_at, r.sha)):
            found.setdefault(r.trigger, []).append((r.sha, r.measurements))
        return found
    finally:
        store.close()


def test_the_confirmation_runs_are_kept_for_the_dashboards_store(tmp_path: Path) -> None:
    repo, db, shas = make_history(tmp_path, slower=True)
    data = tmp_path / "perfci-data" / "runs"  # the fetched branch, main's runs on it
    shutil.copytree(tmp_path / "history", data)
    env = runner_env(tmp_path, db)
    assert run_step(DETECT, repo, env).returncode == 0
    confirmed = run_step(CONFIRM, repo, env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "::" not in confirmed.stdout
    (alert,) = [a for a in alerts(tmp_path) if a["metric"] == "latency"]
    assert (alert["commit"], alert["new"]) == (shas[BEFORE], True)

    kept = [load_results_file(p) for p in sorted(data.glob("confirm-*.json"))]
    runner = _runs(db)
    assert len(kept) == len(runner["confirm"]) > 0  # each run stored as main's history
    assert {r.run.trigger for r in kept} == {"confirm"}
    assert {r.commit.sha for r in kept if r.commit} == {sha for sha, _ in runner["confirm"]}

    rebuilt = f"sqlite:///{tmp_path / 'site.db'}"
    assert perfci(repo, "rebuild", "--from", str(data), "--db", rebuilt).returncode == 0
    assert _runs(rebuilt) == {k: v for k, v in runner.items() if k != "ab"}
    listed = perfci(repo, "detect", "--full", "--format", "json", "--db", rebuilt)
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    (again,) = [a for a in doc["alerts"] if a["metric"] == "latency"]
    assert (again["commit"], again["kind"]) == (shas[BEFORE], "regression")


def test_the_kept_runs_are_pushed_before_the_gate() -> None:
    listed = steps()
    names = [s.get("name") or s.get("uses") for s in listed]
    pushes = [
        i
        for i, s in enumerate(listed)
        if s.get("uses") == "./.github/actions/perfci-data" and s["with"]["mode"] == "push"
    ]
    assert len(pushes) == 2
    assert names.index(CONFIRM) < pushes[1] < names.index("Gate on regressions")
    assert listed[pushes[1]]["with"]["message"] == "Confirmation runs of ${{ github.sha }}"
