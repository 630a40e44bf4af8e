"""The store read whole, for a reader that shows all of it (the dashboard): the small tables
as plain rows in a few bulk queries of one transaction, and the measurements' summaries in
one streamed scan."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from perfci.store import Store
from perfci.store.models import (
    Alert,
    Benchmark,
    Commit,
    Environment,
    Machine,
    Measurement,
    Outcome,
    Run,
)

_FETCH = 20_000  # rows per fetch of the measurements' scan


@dataclass(frozen=True)
class RunSummary:
    """A run with the commit it measured."""

    id: int
    commit_id: int
    sha: str
    subject: str | None
    branch: str | None
    author_time: datetime | None
    machine_id: int
    environment_id: int
    started_at: datetime
    trigger: str
    pr_number: int | None
    ci_url: str | None
    status: str
    profile: str | None
    thermal_state: str | None
    low_power_mode: bool | None
    load_average: float | None


@dataclass(frozen=True)
class BenchmarkInfo:
    id: int
    key: str
    suite: str
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class AlertInfo:
    id: int
    benchmark_id: int
    machine_id: int
    metric: str
    commit_id: int
    sha: str
    subject: str | None
    last_good_sha: str | None  # runs missing since it, or where a drift began
    kind: str
    magnitude: float
    status: str
    reason: str | None
    detected_at: datetime
    shape: str
    bisected_sha: str | None = None  # the first bad commit `perfci bisect` found


@dataclass(frozen=True)
class OutcomeInfo:
    """A benchmark of a run that measured nothing, and why (skipped or error)."""

    run_id: int
    benchmark_id: int
    status: str
    reason: str


@dataclass(frozen=True)
class Tables:
    """Everything but the measurements, by id. A machine or an environment is its row with
    every stored column, `id` included; alerts are newest first, outcomes by run."""

    runs: dict[int, RunSummary]
    machines: dict[int, dict[str, Any]]
    environments: dict[int, dict[str, Any]]
    benchmarks: dict[int, BenchmarkInfo]
    alerts: list[AlertInfo]
    outcomes: list[OutcomeInfo]


def read_tables(store: Store) -> Tables:
    """The small tables whole, read through one connection in one transaction."""
    with store.engine.connect() as conn:
        return Tables(
            _runs(conn),
            {row.id: dict(row._mapping) for row in conn.execute(select(*Machine.__table__.c))},
            {row.id: dict(row._mapping) for row in conn.execute(select(*Environment.__table__.c))},
            {
                row.id: BenchmarkInfo(row.id, row.key, row.suite, row.name, json.loads(row.params))
                for row in conn.execute(select(Benchmark))
            },
            _alerts(conn),
            [
                OutcomeInfo(*row)
                for row in conn.execute(
                    select(
                        Outcome.run_id, Outcome.benchmark_id, Outcome.status, Outcome.reason
                    ).order_by(Outcome.run_id, Outcome.id)
                )
            ],
        )


def _runs(conn: Connection) -> dict[int, RunSummary]:
    query = select(
        Run.id,
        Run.commit_id,
        Commit.sha,
        Commit.subject,
        Commit.branch,
        Commit.author_time,
        Run.machine_id,
        Run.environment_id,
        Run.started_at,
        Run.trigger,
        Run.pr_number,
        Run.ci_url,
        Run.status,
        Run.profile,
        Run.thermal_state,
        Run.low_power_mode,
        Run.load_average,
    ).join(Commit, Commit.id == Run.commit_id)
    return {row.id: RunSummary(**row._mapping) for row in conn.execute(query)}


def _alerts(conn: Connection) -> list[AlertInfo]:
    good, bisected = aliased(Commit), aliased(Commit)
    query = (
        select(
            Alert.id,
            Alert.benchmark_id,
            Alert.machine_id,
            Alert.metric,
            Alert.commit_id,
            Commit.sha,
            Commit.subject,
            good.sha.label("last_good_sha"),
            Alert.kind,
            Alert.magnitude,
            Alert.status,
            Alert.reason,
            Alert.detected_at,
            Alert.shape,
            bisected.sha.label("bisected_sha"),
        )
        .join(Commit, Commit.id == Alert.commit_id)
        .outerjoin(good, good.id == Alert.last_good_commit_id)
        .outerjoin(bisected, bisected.id == Alert.bisected_commit_id)
        .order_by(Alert.detected_at.desc(), Alert.id.desc())
    )
    return [AlertInfo(**row._mapping) for row in conn.execute(query)]


SummaryRow = tuple[int, str, int, str, str, float, float, float]
"""(benchmark id, metric, run id, unit, direction, median, q1, q3): a plain tuple, as the
driver gives it, because a site reads millions of them."""


def measurement_summaries(store: Store, run_ids: Sequence[int] | None) -> Iterator[SummaryRow]:
    """The summary of every measurement of these runs (all when None), in table order: one
    streamed scan, no index lookups, no raw samples. The ids are inlined as integers, so
    the statement has no bound parameters (and no backend's limit on them), and the
    DB-API cursor runs it without SQLAlchemy's per-row cost."""
    query = select(
        Measurement.benchmark_id,
        Measurement.metric,
        Measurement.run_id,
        Measurement.unit,
        Measurement.direction,
        Measurement.median,
        Measurement.q1,
        Measurement.q3,
    )
    if run_ids is not None:
        ids = sorted(int(i) for i in run_ids)  # integers only: safe to inline
        query = query.where(Measurement.run_id.in_(ids))
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            yield from rows
        cursor.close()
    finally:
        raw.close()


def newest_measurement_id(store: Store) -> int:
    """The id of the newest measurement (0 in an empty store): ids only grow."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(Measurement.id))).scalar() or 0)


def runs_measured_after(store: Store, measurement_id: int) -> set[int]:
    """The runs with a measurement newer than `measurement_id`."""
    query = select(Measurement.run_id).where(Measurement.id > measurement_id).distinct()
    with store.engine.connect() as conn:
        return {int(run_id) for run_id in conn.execute(query).scalars()}
