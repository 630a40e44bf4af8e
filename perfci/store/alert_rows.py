"""The store's side of history mode: the series along a chain of commits, the alerts
stored for them, and writing alerts (each write one transaction). Rows come back as
typed dataclasses; what to detect, write or acknowledge is `perfci.alerts`' to decide."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from perfci.results import NOT_HISTORY
from perfci.store import Store
from perfci.store.engine import write_transaction
from perfci.store.models import Alert, Benchmark, Commit, Machine, Measurement, Run, table_of
from perfci.store.queries import IN_CHUNK

SeriesKey = tuple[int, str, str]  # benchmark id, metric, machine fingerprint


@dataclass(frozen=True)
class SeriesPoint:
    """One run's value (its median) on a series."""

    position: int  # along the chain, oldest first
    started_at: datetime
    commit_id: int
    sha: str
    environment_id: int
    machine_id: int
    value: float


@dataclass(frozen=True)
class BenchmarkName:
    suite: str
    name: str
    params: str  # canonical JSON


@dataclass(frozen=True)
class StoredAlert:
    id: int
    benchmark_id: int
    metric: str
    machine_id: int
    commit_id: int
    last_good_commit_id: int | None
    kind: str
    magnitude: float
    reason: str | None
    shape: str
    status: str


@dataclass(frozen=True)
class NewAlert:
    """An alert to write; it is stored open."""

    benchmark_id: int
    metric: str
    machine_id: int
    commit_id: int
    last_good_commit_id: int | None
    kind: str
    shape: str
    magnitude: float
    reason: str | None


@dataclass(frozen=True)
class MovedAlert:
    """A stored alert that moves to another commit with a new magnitude (a drift that
    went on)."""

    alert_id: int
    commit_id: int
    magnitude: float


@dataclass(frozen=True)
class ListedAlert:
    """A stored alert with the names it is shown by."""

    benchmark_id: int
    metric: str
    machine_id: int
    commit_id: int
    kind: str
    benchmark: BenchmarkName
    machine: str  # its name
    sha: str
    last_good_sha: str | None
    magnitude: float
    status: str
    reason: str | None
    shape: str


def series_points(store: Store, chain: Sequence[str]) -> dict[SeriesKey, list[SeriesPoint]]:
    """Every series with runs on the chain (shas, newest first): its points by position
    along it, oldest first, and by start time within a commit; runs without a positive
    median are left out. A commit of the chain without runs (stored from git's history,
    `perfci.store.ancestry`) is no point but keeps its position: the positions of the
    runs around it skip it."""
    position = {sha: i for i, sha in enumerate(reversed(chain))}
    shas = list(position)
    query = (
        select(
            Measurement.benchmark_id,
            Measurement.metric,
            Machine.fingerprint,
            Run.started_at,
            Commit.id,
            Commit.sha,
            Run.environment_id,
            Run.machine_id,
            Measurement.median,
        )
        .join(Run, Run.id == Measurement.run_id)
        .join(Commit, Commit.id == Run.commit_id)
        .join(Machine, Machine.id == Run.machine_id)
        .where(Run.trigger.not_in(NOT_HISTORY))
    )
    out: dict[SeriesKey, list[SeriesPoint]] = defaultdict(list)
    with store.engine.connect() as conn:
        for at in range(0, len(shas), IN_CHUNK):
            chunk = query.where(Commit.sha.in_(shas[at : at + IN_CHUNK]))
            for bench, metric, fp, started, cid, sha, env, mid, median in conn.execute(chunk):
                if median is None or not median > 0:
                    continue
                out[(bench, metric, fp)].append(
                    SeriesPoint(position[sha], started, cid, sha, env, mid, float(median))
                )
    for points in out.values():
        points.sort(key=lambda p: (p.position, p.started_at))
    return dict(out)


def metric_directions(store: Store) -> dict[tuple[int, str], str]:
    """Each (benchmark id, metric)'s direction: `lower` or `higher` is better."""
    query = select(Measurement.benchmark_id, Measurement.metric, Measurement.direction).distinct()
    with store.engine.connect() as conn:
        return {(b, m): d for b, m, d in conn.execute(query)}


def machine_fingerprints(store: Store) -> dict[int, str]:
    with store.engine.connect() as conn:
        return {i: fp for i, fp in conn.execute(select(Machine.id, Machine.fingerprint))}


def machine_names(store: Store) -> dict[int, str]:
    with store.engine.connect() as conn:
        return {i: str(name) for i, name in conn.execute(select(Machine.id, Machine.name))}


def benchmark_names(store: Store) -> dict[int, BenchmarkName]:
    query = select(Benchmark.id, Benchmark.suite, Benchmark.name, Benchmark.params)
    with store.engine.connect() as conn:
        return {i: BenchmarkName(s, n, p) for i, s, n, p in conn.execute(query)}


def stored_alerts(store: Store) -> list[StoredAlert]:
    """Every stored alert, of every status."""
    query = select(
        Alert.id,
        Alert.benchmark_id,
        Alert.metric,
        Alert.machine_id,
        Alert.commit_id,
        Alert.last_good_commit_id,
        Alert.kind,
        Alert.magnitude,
        Alert.reason,
        Alert.shape,
        Alert.status,
    )
    with store.engine.connect() as conn:
        return [StoredAlert(*row) for row in conn.execute(query)]


def write_alerts(
    store: Store, new: Sequence[NewAlert], moved: Sequence[MovedAlert], detected_at: datetime
) -> None:
    """Stores `new` (open) and moves `moved`, all in one transaction, each stamped
    `detected_at`."""
    rows = [
        {
            "benchmark_id": a.benchmark_id,
            "metric": a.metric,
            "machine_id": a.machine_id,
            "commit_id": a.commit_id,
            "last_good_commit_id": a.last_good_commit_id,
            "kind": a.kind,
            "shape": a.shape,
            "magnitude": a.magnitude,
            "status": "open",
            "reason": a.reason,
            "detected_at": detected_at,
        }
        for a in new
    ]
    table = table_of(Alert)
    with write_transaction(store.engine) as conn:
        if rows:
            conn.execute(insert(table), rows)
        for m in moved:
            conn.execute(
                update(table)
                .where(table.c.id == m.alert_id)
                .values(commit_id=m.commit_id, magnitude=m.magnitude, detected_at=detected_at)
            )


def acknowledge_open(store: Store, reason_for: Callable[[int, str, str], str | None]) -> None:
    """In one transaction: each open regression or improvement alert for which
    `reason_for(benchmark id, metric, commit sha)` gives a reason becomes `acknowledged`
    with that reason."""
    table = table_of(Alert)
    query = (
        select(Alert.id, Alert.benchmark_id, Alert.metric, Commit.sha)
        .join(Commit, Commit.id == Alert.commit_id)
        .where(Alert.status == "open", Alert.kind != "environment")
    )
    with write_transaction(store.engine) as conn:
        for alert_id, bench, metric, sha in conn.execute(query).all():
            reason = reason_for(bench, metric, sha)
            if reason is not None:
                conn.execute(
                    update(table)
                    .where(table.c.id == alert_id)
                    .values(status="acknowledged", reason=reason)
                )


def listed_alerts(store: Store) -> list[ListedAlert]:
    """Every stored alert with its names, oldest detected first."""
    good = select(Commit.id, Commit.sha).subquery()
    query = (
        select(
            Alert.benchmark_id,
            Alert.metric,
            Alert.machine_id,
            Alert.commit_id,
            Alert.kind,
            Benchmark.suite,
            Benchmark.name,
            Benchmark.params,
            Machine.name,
            Commit.sha,
            good.c.sha,
            Alert.magnitude,
            Alert.status,
            Alert.reason,
            Alert.shape,
        )
        .join(Benchmark, Benchmark.id == Alert.benchmark_id)
        .join(Machine, Machine.id == Alert.machine_id)
        .join(Commit, Commit.id == Alert.commit_id)
        .outerjoin(good, good.c.id == Alert.last_good_commit_id)
        .order_by(Alert.detected_at, Alert.id)
    )
    out = []
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            bench, metric, mid, cid, kind, suite, name, params, machine = row[:9]
            sha, good_sha, magnitude, status, reason, shape = row[9:]
            out.append(
                ListedAlert(
                    bench,
                    metric,
                    mid,
                    cid,
                    kind,
                    BenchmarkName(suite, name, params),
                    machine,
                    sha,
                    good_sha,
                    magnitude,
                    status,
                    reason,
                    shape,
                )
            )
    return out
