"""The store against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import dataclasses

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from factories import benchmark, run, sha
from sqlalchemy import func, select, text

from perfci.results import CommitInfo, Metric, Outcome
from perfci.store import Store, StoreError, open_store
from perfci.store.engine import make_engine
from perfci.store.ingest import ingest_runs
from perfci.store.migrate import head_revision
from perfci.store.models import Base, Benchmark, Commit, CommitParent, Measurement, Run
from perfci.store.queries import (
    first_parent_chain,
    history,
    list_runs,
    run_metrics,
    run_outcomes,
)


def count(store: Store, model: type[Base]) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_new_store_is_at_head_and_matches_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head_revision()
        # The migrations create exactly what the models declare: types, constraints, indexes.
        assert compare_metadata(context, Base.metadata) == []


def test_a_run_is_stored_with_its_samples_and_summary(store: Store) -> None:
    result = run(benchmarks=(benchmark(latency=2e-3), benchmark("test_add", latency=1e-4)))
    (stored,) = ingest_runs(store, [result])
    assert stored.created and stored.measurements == 4

    rows = {(m.name, m.metric): m for m in run_metrics(store, stored.run_id)}
    latency = rows[("test_gemm", "latency")]
    expected = result.benchmarks[0].metrics[0].samples
    assert latency.samples == expected  # raw samples survive bit for bit
    assert latency.n == 20
    assert latency.median == pytest.approx(sorted(expected)[9] / 2 + sorted(expected)[10] / 2)
    assert latency.params == {"backend": "mlx", "n": 512}


def test_the_same_run_twice_is_stored_once(store: Store) -> None:
    result = run()
    first, second = ingest_runs(store, [result, result])
    (third,) = ingest_runs(store, [result])
    assert first.created and not second.created and not third.created
    assert first.run_id == second.run_id == third.run_id
    assert count(store, Run) == 1
    assert count(store, Measurement) == 2


def test_runs_share_commits_and_benchmarks(store: Store) -> None:
    commit = sha("shared")
    ingest_runs(store, [run(commit=commit), run(commit=commit)])
    assert count(store, Run) == 2
    assert count(store, Commit) == 1
    assert count(store, Benchmark) == 1
    assert count(store, Measurement) == 4


def test_a_bare_commit_learns_its_metadata_later(store: Store) -> None:
    commit = sha("bare")
    bare = dataclasses.replace(run(commit=commit), commit=CommitInfo(sha=commit))
    ingest_runs(store, [bare])
    parent = sha("parent")
    ingest_runs(store, [run(commit=commit, parents=(parent,), subject="Fix <b>it</b>")])
    with store.engine.connect() as conn:
        row = conn.execute(select(Commit.subject, Commit.branch).where(Commit.sha == commit)).one()
        parents = conn.execute(select(CommitParent.parent_sha)).scalars().all()
    assert row == ("Fix <b>it</b>", "main")
    assert parents == [parent]
    assert first_parent_chain(store, commit) == [commit, parent]


def test_outcomes_are_stored_with_reasons(store: Store) -> None:
    skipped = Outcome(
        "suites/coreml/test_predict",
        "test_predict",
        {"units": "ALL"},
        "skipped",
        "Core ML prediction needs macOS",
    )
    failed = Outcome(
        "suites/mlx/test_gemm", "test_gemm", {"n": 1}, "error", "call: ValueError: shapes"
    )
    (stored,) = ingest_runs(store, [run(outcomes=(skipped, failed))])
    outcomes = {(o.status, o.reason) for o in run_outcomes(store, stored.run_id)}
    assert outcomes == {
        ("skipped", "Core ML prediction needs macOS"),
        ("error", "call: ValueError: shapes"),
    }
    (row,) = list_runs(store)
    assert (row.measurements, row.skipped, row.errors) == (2, 1, 1)


def test_summary_only_measurements_are_kept_without_samples(store: Store) -> None:
    from perfci.stats.summary import Summary

    summary = Summary(n=7, median=1.0, mean=1.1, stddev=0.1, min=0.9, max=1.4, q1=0.95, q3=1.2)
    bench = dataclasses.replace(
        benchmark(), metrics=(Metric("latency", "s", "lower", (), summary),)
    )
    (stored,) = ingest_runs(store, [run(benchmarks=(bench,))])
    (row,) = run_metrics(store, stored.run_id)
    assert (row.n, row.median, row.q3, row.samples) == (7, 1.0, 1.2, ())


def test_history_lists_a_benchmark_oldest_first(store: Store) -> None:
    for day, latency in ((1, 1e-3), (2, 2e-3), (3, 3e-3)):
        when = f"2026-11-0{day}T10:00:00+00:00"
        ingest_runs(
            store, [run(commit=sha(day), started_at=when, benchmarks=(benchmark(latency=latency),))]
        )
    rows = history(store, "suites/mlx/test_gemm::test_gemm", "latency")
    assert [r.sha for r in rows] == [sha(1), sha(2), sha(3)]
    assert rows[0].median < rows[1].median < rows[2].median
    assert history(store, "test_gemm", "throughput") == []


def test_an_error_midway_through_a_batch_stores_nothing(store: Store) -> None:
    good = run(commit=sha("good"))
    # The same benchmark twice in one run violates a unique constraint in the database.
    bad = run(commit=sha("bad"), benchmarks=(benchmark(), benchmark()))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        ingest_runs(store, [good, bad])
    assert count(store, Run) == 0
    assert count(store, Commit) == 0


def test_a_database_from_a_newer_perfci_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer perfci"):
        open_store(store_url)


def test_an_unreachable_database_is_one_clear_error() -> None:
    pytest.importorskip("psycopg", reason="psycopg is needed for PostgreSQL URLs")
    with pytest.raises(StoreError, match="cannot open the store") as info:
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [("not a url", "cannot use database URL"), ("nosuchdb://x/y", "cannot use database URL")],
)
def test_a_bad_url_is_one_clear_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)
