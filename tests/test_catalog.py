"""The store read whole (perfci.store.catalog), against a real SQLite file and a real
PostgreSQL database: what it gives agrees with what was ingested and with the store's
per-run queries."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from factories import MACHINE, benchmark, run, sha
from sqlalchemy.orm import Session

from perfci.results import Outcome
from perfci.store import Store
from perfci.store.catalog import (
    measurement_summaries,
    newest_measurement_id,
    read_tables,
    runs_measured_after,
)
from perfci.store.ingest import Ingested, ingest_runs, utc
from perfci.store.models import Alert
from perfci.store.queries import commit_count, run_metrics

SKIPPED = {"backend": "coreml", "n": 512}


def _two_runs(store: Store) -> tuple[Ingested, Ingested]:
    first = run(
        commit=sha("a"),
        benchmarks=(benchmark(latency=1e-3), benchmark("test_add", latency=2e-4, seed=1)),
        outcomes=(Outcome("suites/mlx/test_gemm", "test_gemm", SKIPPED, "skipped", "no ANE"),),
        started_at="2026-10-01T10:00:00+00:00",
    )
    second = run(
        commit=sha("b"),
        parents=(sha("a"),),
        benchmarks=(benchmark(latency=1.1e-3, seed=2),),
        started_at="2026-10-02T10:00:00+00:00",
        machine=dataclasses.replace(MACHINE, name="mini-2", chip="Apple M2"),
    )
    a, b = ingest_runs(store, [first, second])
    return a, b


def test_the_tables_hold_every_run_machine_benchmark_and_outcome(store: Store) -> None:
    first, second = _two_runs(store)
    tables = read_tables(store)
    assert set(tables.runs) == {first.run_id, second.run_id}
    a, b = tables.runs[first.run_id], tables.runs[second.run_id]
    assert (a.sha, b.sha) == (sha("a"), sha("b"))
    assert a.started_at == utc("2026-10-01T10:00:00+00:00")
    assert a.commit_id != b.commit_id and a.machine_id != b.machine_id
    assert {tables.machines[r.machine_id]["name"] for r in (a, b)} == {"mini-1", "mini-2"}
    assert tables.machines[a.machine_id]["id"] == a.machine_id
    assert tables.environments[a.environment_id]["os"] == "macOS"
    measured = {(m.name, tuple(sorted(m.params.items()))) for m in run_metrics(store, a.id)}
    named = {(x.name, tuple(sorted(x.params.items()))) for x in tables.benchmarks.values()}
    assert named == measured | {("test_gemm", tuple(sorted(SKIPPED.items())))}
    (outcome,) = tables.outcomes
    assert (outcome.run_id, outcome.status, outcome.reason) == (a.id, "skipped", "no ANE")
    assert tables.benchmarks[outcome.benchmark_id].params == SKIPPED
    assert tables.alerts == []


def test_alerts_come_newest_first_with_their_commits(store: Store) -> None:
    first, second = _two_runs(store)
    tables = read_tables(store)
    a, b = tables.runs[first.run_id], tables.runs[second.run_id]
    bench = next(x.id for x in tables.benchmarks.values() if x.name == "test_gemm")
    with Session(store.engine) as session:
        for day, commit, since in ((3, a.commit_id, None), (5, b.commit_id, a.commit_id)):
            session.add(
                Alert(
                    benchmark_id=bench,
                    machine_id=a.machine_id,
                    metric="latency",
                    commit_id=commit,
                    last_good_commit_id=since,
                    shape="step" if since is None else "drift",
                    kind="regression",
                    magnitude=1.1,
                    status="open",
                    detected_at=datetime(2026, 10, day),
                )
            )
        session.commit()
    newer, older = read_tables(store).alerts
    assert (newer.sha, newer.last_good_sha, newer.shape) == (sha("b"), sha("a"), "drift")
    assert (older.sha, older.last_good_sha, older.shape) == (sha("a"), None, "step")
    assert newer.detected_at > older.detected_at


def test_the_summaries_are_those_of_each_run(store: Store) -> None:
    first, second = _two_runs(store)
    every = list(measurement_summaries(store, None))
    assert len(every) == first.measurements + second.measurements
    for ingested in (first, second):
        rows = list(measurement_summaries(store, [ingested.run_id]))
        assert {r[2] for r in rows} == {ingested.run_id}
        expected = sorted(
            (m.metric, m.unit, m.direction, m.median, m.q1, m.q3)
            for m in run_metrics(store, ingested.run_id)
        )
        assert sorted(r[1:2] + r[3:] for r in rows) == expected
    assert list(measurement_summaries(store, [])) == []
    both = list(measurement_summaries(store, [second.run_id, first.run_id]))
    assert sorted(both) == sorted(every)


def test_newer_measurements_name_their_runs(store: Store) -> None:
    assert newest_measurement_id(store) == 0
    (first,) = ingest_runs(store, [run(commit=sha("a"))])
    seen = newest_measurement_id(store)
    assert seen > 0
    assert runs_measured_after(store, 0) == {first.run_id}
    assert runs_measured_after(store, seen) == set()
    (second,) = ingest_runs(store, [run(commit=sha("b"), parents=(sha("a"),))])
    assert newest_measurement_id(store) > seen
    assert runs_measured_after(store, seen) == {second.run_id}
    assert runs_measured_after(store, 0) == {first.run_id, second.run_id}


def test_commit_count_counts_each_commit_once(store: Store) -> None:
    assert commit_count(store) == 0
    _two_runs(store)
    again = run(commit=sha("a"), started_at="2026-10-03T10:00:00+00:00")
    ingest_runs(store, [again])
    tables = read_tables(store)
    assert len(tables.runs) == 3
    assert commit_count(store) == len({r.commit_id for r in tables.runs.values()}) == 2
