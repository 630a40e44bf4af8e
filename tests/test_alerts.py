"""History mode on the store: alerts along main's first-parent history (SQLite and
PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from perfci.alerts import update_alerts
from perfci.cli import main
from perfci.stats.changepoint import WINDOW
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from perfci.store.models import Alert
from tests import factories

NEW_TORCH = dataclasses.replace(
    factories.ENVIRONMENT, packages={**factories.ENVIRONMENT.packages, "torch": "2.8.0"}
)


def _chain(n: int) -> list[str]:
    return [factories.sha(f"commit-{i}") for i in range(n)]


def _runs(
    latencies: dict[int, float], shas: list[str], env_from: int | None = None
) -> list[factories.RunResult]:
    """One run per commit index in `latencies`; commits without a run still chain."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    runs = []
    for i, latency in sorted(latencies.items()):
        env = NEW_TORCH if env_from is not None and i >= env_from else factories.ENVIRONMENT
        runs.append(
            factories.run(
                commit=shas[i],
                parents=(shas[i - 1],) if i else (),
                benchmarks=(factories.benchmark(latency=latency, seed=i),),
                started_at=(start + timedelta(hours=i)).isoformat(),
                environment=env,
            )
        )
    return runs


def _parents_only(shas: list[str], missing: list[int]) -> list[factories.RunResult]:
    """Commits that have no run of the benchmark still need their parent links: a run of
    another benchmark records them."""
    start = datetime(2026, 10, 1, tzinfo=UTC)
    return [
        factories.run(
            commit=shas[i],
            parents=(shas[i - 1],),
            benchmarks=(factories.benchmark(name="test_other", seed=i),),
            started_at=(start + timedelta(hours=i)).isoformat(),
        )
        for i in missing
    ]


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Alert)).scalar_one())


def test_step_is_attributed_and_not_duplicated(store: Store) -> None:
    shas = _chain(40)
    ingest_runs(store, _runs({i: 1e-3 * (1.1 if i >= 25 else 1.0) for i in range(40)}, shas))
    alerts = [a for a in update_alerts(store) if a.metric == "latency"]
    assert [(a.kind, a.commit, a.last_good_commit, a.new) for a in alerts] == [
        ("regression", shas[25], None, True)
    ]
    assert alerts[0].magnitude == pytest.approx(1.1, rel=0.02)
    stored = _count(store)
    again = update_alerts(store)  # a second call finds the same change: stored once
    assert _count(store) == stored and not any(a.new for a in again)


def test_noise_alone_raises_nothing(store: Store) -> None:
    shas = _chain(40)
    ingest_runs(store, _runs(dict.fromkeys(range(40), 1e-3), shas))
    assert update_alerts(store) == []


def test_missing_runs_give_a_commit_range(store: Store) -> None:
    shas = _chain(40)
    latencies = {i: 1e-3 * (1.1 if i >= 25 else 1.0) for i in range(40) if i not in (23, 24)}
    ingest_runs(store, _parents_only(shas, [23, 24]) + _runs(latencies, shas))
    alerts = [a for a in update_alerts(store) if "::test_gemm" in a.benchmark]
    regressions = [a for a in alerts if a.kind == "regression" and a.metric == "latency"]
    assert [(a.last_good_commit, a.commit) for a in regressions] == [(shas[22], shas[25])]


def test_environment_change_is_not_blamed_on_a_commit(store: Store) -> None:
    shas = _chain(40)
    latencies = {i: 1e-3 * (1.2 if i >= 25 else 1.0) for i in range(40)}
    ingest_runs(store, _runs(latencies, shas, env_from=25))
    latency = [a for a in update_alerts(store) if a.metric == "latency"]
    assert [(a.kind, a.commit) for a in latency] == [("environment", shas[25])]
    assert latency[0].reason == "environment fingerprint changed"


def test_incremental_runs_find_the_change_once(store: Store) -> None:
    shas = _chain(40)
    runs = _runs({i: 1e-3 * (1.1 if i >= 25 else 1.0) for i in range(40)}, shas)
    for run in runs:  # as CI does: ingest a run, then check
        ingest_runs(store, [run])
        update_alerts(store)
    with store.engine.connect() as conn:
        kinds = conn.execute(select(Alert.kind, Alert.metric)).all()
    assert [tuple(k) for k in kinds if k[1] == "latency"] == [("regression", "latency")]


def test_command_line(store_url: str, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    shas = _chain(40)
    ingest_runs(store, _runs({i: 1e-3 * (1.1 if i >= 25 else 1.0) for i in range(40)}, shas))
    assert main(["detect", "--db", store_url, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    latency = [a for a in doc["alerts"] if a["metric"] == "latency"]
    assert [(a["kind"], a["commit"], a["new"]) for a in latency] == [("regression", shas[25], True)]
    assert main(["detect", "--db", store_url]) == 0
    assert "(new)" not in capsys.readouterr().out
    assert main(["detect", "--db", store_url, "--branch", "nowhere"]) == 2
    assert "no runs on branch 'nowhere'" in capsys.readouterr().err


def test_full_replay_finds_what_a_new_store_would_otherwise_miss(
    store_url: str, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store rebuilt from results files: a change 430 runs back lies beyond the window
    that the newest tails look back over; --full replays every run as it arrived."""
    runs = WINDOW + 50
    shas = _chain(runs)
    ingest_runs(store, _runs({i: 1e-3 * (1.1 if i >= 20 else 1.0) for i in range(runs)}, shas))
    assert main(["detect", "--db", store_url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == []
    assert main(["detect", "--db", store_url, "--full", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    latency = [a for a in doc["alerts"] if a["metric"] == "latency"]
    assert [(a["kind"], a["commit"]) for a in latency] == [("regression", shas[20])]


def test_full_is_refused_for_csv_files(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "series.csv"
    path.write_text("value\n1\n2\n")
    assert main(["detect", str(path), "--full"]) == 2
    assert "--full is for history mode" in capsys.readouterr().err


def test_a_drift_is_reported_over_its_range(
    store_url: str, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = _chain(80)
    ingest_runs(store, _runs({i: 1e-3 * (1 + 0.15 * i / 79) for i in range(80)}, shas))
    assert main(["detect", "--db", store_url, "--format", "json"]) == 0
    latency = [a for a in json.loads(capsys.readouterr().out)["alerts"] if a["metric"] == "latency"]
    assert latency and {a["kind"] for a in latency} == {"regression"}
    first = latency[0]
    assert (first["shape"], first["last_good_commit"]) == ("drift", shas[0])
    assert main(["detect", "--db", store_url]) == 0
    assert f"drifting since {shas[0][:10]}" in capsys.readouterr().out


def test_a_drift_that_goes_on_is_one_alert_that_grows(store: Store) -> None:
    """Run by run, as CI checks, a drift crosses the threshold again and again; its alert
    moves on and grows instead of a staircase of alerts each blaming a commit. Checking
    the whole history at once finds the same alert."""
    shas = _chain(160)
    runs = _runs({i: 1e-3 * (1 + 0.3 * i / 159) for i in range(160)}, shas)
    for run in runs:
        ingest_runs(store, [run])
        update_alerts(store)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Alert.shape, Alert.magnitude).where(Alert.metric == "latency")
        ).all()
    (shape, magnitude), *rest = rows
    assert rest == [] and shape == "drift"
    assert 1.15 < magnitude < 1.35  # most of the 30%, found as it happened
    first = [a for a in update_alerts(store) if a.metric == "latency"]
    assert first[0].last_good_commit == shas[0]
    with store.engine.begin() as conn:
        conn.execute(Alert.__table__.delete())  # type: ignore[attr-defined]
    replayed = [a for a in update_alerts(store, recheck=None) if a.metric == "latency"]
    assert [(a.shape, a.commit, a.last_good_commit) for a in replayed] == [
        (first[0].shape, first[0].commit, first[0].last_good_commit)
    ]
    assert replayed[0].magnitude == pytest.approx(first[0].magnitude)


def test_a_rerun_of_an_old_commit_does_not_move_the_walk_start(store: Store) -> None:
    """The history walk starts at the branch's newest commit, not at the commit of the
    newest stored run: a re-run of commit 3, stored last, leaves commit 39 the head."""
    from perfci.alerts import branch_head

    shas = _chain(40)
    runs = _runs({i: 1e-3 for i in range(40)}, shas)
    rerun = dataclasses.replace(
        runs[3],
        run=dataclasses.replace(
            runs[3].run, run_id="rerun-of-3", started_at="2026-12-01T00:00:00+00:00"
        ),
    )
    ingest_runs(store, [*runs, rerun])
    assert branch_head(store, "main") == shas[39]
