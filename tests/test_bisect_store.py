"""A bisection's answer on the alert (SQLite and PostgreSQL): revision 0004 adds it to
stored alerts and takes it away again, `perfci detect` and the dashboard show it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from perfci.alerts import update_alerts
from perfci.cli import main
from perfci.dashboard import build_site
from perfci.store import Store, open_store
from perfci.store.bisect_rows import alert_range, record_bisected
from perfci.store.engine import StoreError, make_engine, write_transaction
from perfci.store.ingest import ingest_runs
from perfci.store.migrate import alembic_config, current_revision, upgrade
from tests import factories


def _ranged_alert(store: Store) -> tuple[list[str], int]:
    """A +30% step at commit 25 of 40 whose runs are missing at 22-24: an alert with the
    range 21..25; its id."""
    shas = [factories.sha(f"commit-{i}") for i in range(40)]
    runs = [
        factories.run(
            commit=shas[i],
            parents=(shas[i - 1],) if i else (),
            benchmarks=(
                factories.benchmark(latency=1e-3 * (1.3 if i >= 25 else 1.0), seed=i)
                if i not in (22, 23, 24)
                else factories.benchmark(name="test_other", seed=i),
            ),
            started_at=f"2026-11-01T{i // 4:02d}:{i % 4 * 15:02d}:00+00:00",
        )
        for i in range(40)
    ]
    ingest_runs(store, runs)
    (alert,) = [
        a
        for a in update_alerts(store)
        if a.metric == "latency" and a.kind == "regression" and "test_gemm" in a.benchmark
    ]
    assert (alert.last_good_commit, alert.commit) == (shas[21], shas[25])
    return shas, alert.id


def test_an_alerts_range_is_read_and_its_first_bad_commit_stored(store: Store) -> None:
    shas, alert_id = _ranged_alert(store)
    found = alert_range(store, alert_id)
    assert found is not None
    assert (found.good, found.bad, found.bisected) == (shas[21], shas[25], None)
    assert (found.suite, found.name, found.metric, found.kind) == (
        "suites/mlx/test_gemm", "test_gemm", "latency", "regression",
    )  # fmt: skip
    record_bisected(store, alert_id, shas[23])
    assert (alert := alert_range(store, alert_id)) is not None and alert.bisected == shas[23]
    assert alert_range(store, alert_id + 1000) is None
    with pytest.raises(StoreError, match="not in the store"):
        record_bisected(store, alert_id, factories.sha("never stored"))
    with pytest.raises(StoreError, match="no alert"):
        record_bisected(store, alert_id + 1000, shas[23])


def test_detect_and_the_dashboard_say_bisected_to(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas, alert_id = _ranged_alert(store)
    record_bisected(store, alert_id, shas[23])
    assert main(["detect", "--db", store.url, "--format", "json"]) == 0
    (doc,) = [a for a in json.loads(capsys.readouterr().out)["alerts"] if a["id"] == alert_id]
    assert doc["bisected_to"] == shas[23] and doc["last_good_commit"] == shas[21]
    assert main(["detect", "--db", store.url]) == 0
    said = capsys.readouterr().out
    assert f"#{alert_id} regression ×" in said and f"bisected to {shas[23][:10]}" in said
    site = tmp_path / "site"
    build_site(store, site)
    page = (site / "index.html").read_text()
    assert re.search(rf"bisected to <code class=\"sha\">{shas[23][:10]}", page)


def test_revision_0004_adds_and_removes_the_bisected_commit(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0003")
    store = Store(store_url, engine)
    ingest_runs(store, [factories.run(commit=factories.sha("old"))])
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alerts (benchmark_id, machine_id, metric, commit_id, kind,"
                " magnitude, status, detected_at, shape) SELECT b.id, m.id, 'latency', c.id,"
                " 'regression', 1.2, 'open', '2026-11-01 10:00:00', 'step'"
                " FROM benchmarks b, machines m, commits c"
            )
        )
    engine.dispose()
    store = open_store(store_url)  # opening upgrades to 0004
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT kind, bisected_commit_id FROM alerts")).all() == [
            ("regression", None)
        ]
        keys = inspect(conn).get_foreign_keys("alerts")
    assert any(k["constrained_columns"] == ["bisected_commit_id"] for k in keys)
    with write_transaction(store.engine) as conn:
        command.downgrade(alembic_config(conn), "0003")
    with store.engine.connect() as conn:
        assert current_revision(conn) == "0003"
        columns = {c["name"] for c in inspect(conn).get_columns("alerts")}
        assert conn.execute(text("SELECT kind, shape FROM alerts")).all() == [
            ("regression", "step")
        ]
    assert "bisected_commit_id" not in columns and "shape" in columns
    store.close()
