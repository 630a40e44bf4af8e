"""What the pages show, read from the store in a few bulk queries (the dashboard never writes)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from perfci.store import Store
from perfci.store.models import (
    Alert,
    Benchmark,
    Commit,
    Environment,
    Machine,
    Outcome,
    Run,
)

_CHUNK = 500  # ids per IN (...): under every backend's parameter limit


@dataclass(frozen=True)
class RunInfo:
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


@dataclass
class Catalog:
    """Everything but the measurements: small tables, read whole."""

    runs: dict[int, RunInfo]
    machines: dict[int, dict[str, Any]]
    environments: dict[int, dict[str, Any]]
    benchmarks: dict[int, BenchmarkInfo]
    alerts: list[AlertInfo]
    outcomes: dict[int, tuple[int, int]] = field(default_factory=dict)  # run → skipped, errors

    def trend_runs(self) -> list[RunInfo]:
        """Runs that make the history (pull-request runs have their own pages), oldest first."""
        runs = [r for r in self.runs.values() if r.trigger != "pull_request"]
        return sorted(runs, key=lambda r: (r.started_at, r.id))


def _rows(store: Store, query: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(query))


def load_catalog(store: Store) -> Catalog:
    runs = {
        row.id: RunInfo(**row._mapping)
        for row in _rows(
            store,
            select(
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
            ).join(Commit, Commit.id == Run.commit_id),
        )
    }
    machines = {
        row.id: dict(row._mapping) for row in _rows(store, select(*Machine.__table__.columns))
    }
    environments = {
        row.id: dict(row._mapping) for row in _rows(store, select(*Environment.__table__.columns))
    }
    benchmarks = {
        row.id: BenchmarkInfo(row.id, row.key, row.suite, row.name, json.loads(row.params))
        for row in _rows(store, select(Benchmark))
    }
    good = aliased(Commit)
    alerts = [
        AlertInfo(**row._mapping)
        for row in _rows(
            store,
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
            )
            .join(Commit, Commit.id == Alert.commit_id)
            .outerjoin(good, good.id == Alert.last_good_commit_id)
            .order_by(Alert.detected_at.desc(), Alert.id.desc()),
        )
    ]
    outcomes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for run_id, status, count in _rows(
        store,
        select(Outcome.run_id, Outcome.status, func.count()).group_by(
            Outcome.run_id, Outcome.status
        ),
    ):
        outcomes[run_id][0 if status == "skipped" else 1] = count
    return Catalog(
        runs,
        machines,
        environments,
        benchmarks,
        alerts,
        {run: (s, e) for run, (s, e) in outcomes.items()},
    )
