"""What the pages show, read from the store in a few bulk queries (the dashboard never writes)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
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


@dataclass(frozen=True)
class OutcomeInfo:
    """A benchmark of a run that measured nothing, and why (skipped or error)."""

    run_id: int
    benchmark_id: int
    status: str
    reason: str


TREND_BRANCH = "main"  # the branch the charts follow, when the store has it


@dataclass
class Catalog:
    """Everything but the measurements: small tables, read whole."""

    runs: dict[int, RunInfo]
    machines: dict[int, dict[str, Any]]
    environments: dict[int, dict[str, Any]]
    benchmarks: dict[int, BenchmarkInfo]
    alerts: list[AlertInfo]
    outcome_rows: list[OutcomeInfo] = field(default_factory=list)
    outcomes: dict[int, tuple[int, int]] = field(default_factory=dict)  # run → skipped, errors

    def trend_branch(self) -> str | None:
        """The branch whose history the charts show: main when runs outside pull requests
        measured it, else the branch with most such commits (None: commits stored without
        a branch)."""
        counts = Counter(
            r.branch
            for r in {
                r.commit_id: r for r in self.runs.values() if r.trigger != "pull_request"
            }.values()
        )
        if TREND_BRANCH in counts or not counts:
            return TREND_BRANCH
        return min(counts, key=lambda b: (-counts[b], b is None, b or ""))


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
    outcome_rows = [
        OutcomeInfo(*row)
        for row in _rows(
            store,
            select(Outcome.run_id, Outcome.benchmark_id, Outcome.status, Outcome.reason).order_by(
                Outcome.run_id, Outcome.id
            ),
        )
    ]
    skipped = Counter(o.run_id for o in outcome_rows if o.status == "skipped")
    failed = Counter(o.run_id for o in outcome_rows if o.status != "skipped")
    return Catalog(
        runs,
        machines,
        environments,
        benchmarks,
        alerts,
        outcome_rows,
        {run: (skipped[run], failed[run]) for run in skipped | failed},
    )
