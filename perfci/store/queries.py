"""Reading the store: runs, their measurements and outcomes, a benchmark's history."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, exists, func, literal, select

from perfci.environment import Conditions
from perfci.results import NOT_HISTORY, RunResult, canonical_params
from perfci.store import Store
from perfci.store.models import (
    Benchmark,
    Commit,
    CommitParent,
    Environment,
    Machine,
    Measurement,
    Outcome,
    Run,
)
from perfci.store.samples import unpack

if TYPE_CHECKING:
    from sqlalchemy import Select


UNKNOWN_CONDITIONS = Conditions(None, None, None)
IN_CHUNK = 500  # bound values per IN (...) of the store's look-ups: under every backend's limit


@dataclass(frozen=True)
class RunRow:
    id: int
    sha: str
    branch: str | None
    subject: str | None
    machine: str
    machine_fingerprint: str
    environment_fingerprint: str
    started_at: datetime
    status: str
    profile: str | None
    trigger: str
    source: str
    measurements: int
    skipped: int
    errors: int
    conditions: Conditions = UNKNOWN_CONDITIONS
    cpu_cores: int | None = None


@dataclass(frozen=True)
class MetricRow:
    suite: str
    name: str
    params: dict[str, Any]
    metric: str
    unit: str
    direction: str
    n: int
    median: float
    q1: float
    q3: float
    samples: tuple[float, ...]  # empty when the source kept no raw data


@dataclass(frozen=True)
class OutcomeRow:
    suite: str
    name: str
    params: dict[str, Any]
    status: str
    reason: str


@dataclass(frozen=True)
class HistoryRow:
    run_id: int
    sha: str
    subject: str | None
    started_at: datetime
    machine: str
    params: dict[str, Any]
    unit: str
    n: int
    median: float
    q1: float
    q3: float


def _runs_query() -> Select[*tuple[Any, ...]]:
    def count(status: str | None) -> Any:
        if status is None:
            query = select(func.count()).where(Measurement.run_id == Run.id)
        else:
            query = select(func.count()).where(Outcome.run_id == Run.id, Outcome.status == status)
        return query.correlate(Run).scalar_subquery()

    query = (
        select(
            Run.id,
            Commit.sha,
            Commit.branch,
            Commit.subject,
            Machine.name,
            Machine.fingerprint,
            Environment.fingerprint,
            Run.started_at,
            Run.status,
            Run.profile,
            Run.trigger,
            Run.source,
            count(None),
            count("skipped"),
            count("error"),
            Run.thermal_state,
            Run.low_power_mode,
            Run.load_average,
            Machine.cpu_cores,
        )
        .join(Commit, Commit.id == Run.commit_id)
        .join(Machine, Machine.id == Run.machine_id)
        .join(Environment, Environment.id == Run.environment_id)
    )
    return query


def _run_row(row: Any) -> RunRow:
    *fields, thermal, low_power, load, cores = row
    return replace(
        RunRow(*fields), conditions=Conditions(thermal, low_power, load), cpu_cores=cores
    )


def list_runs(store: Store, limit: int = 20) -> list[RunRow]:
    """The latest runs, newest first."""
    query = _runs_query().order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [_run_row(row) for row in conn.execute(query)]


def get_run(store: Store, run_id: int) -> RunRow | None:
    with store.engine.connect() as conn:
        row = conn.execute(_runs_query().where(Run.id == run_id)).first()
    return _run_row(row) if row is not None else None


def runs_of_commit(store: Store, sha_prefix: str) -> list[RunRow]:
    """Runs whose commit sha starts with `sha_prefix`, newest first."""
    query = (
        _runs_query()
        .where(Commit.sha.startswith(sha_prefix.lower(), autoescape=True))
        .order_by(Run.started_at.desc(), Run.id.desc())
    )
    with store.engine.connect() as conn:
        return [_run_row(row) for row in conn.execute(query)]


def stored_as(store: Store, result: RunResult) -> RunResult | None:
    """`result` as the store holds its run (found by its run key): with the stored run's
    trigger, and only the metrics and outcomes stored for it (a run may be stored in
    parts); None when no run of that key is stored. Keeps a results file of what was
    stored, for `perfci rebuild`."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(Run.id, Run.trigger).where(Run.run_key == result.run.run_id)
        ).first()
        if found is None:
            return None
        run_id, trigger = found
        named = select(Benchmark.suite, Benchmark.name, Benchmark.params)
        metrics = {
            (suite, name, params, metric)
            for suite, name, params, metric in conn.execute(
                named.add_columns(Measurement.metric)
                .join(Measurement, Measurement.benchmark_id == Benchmark.id)
                .where(Measurement.run_id == run_id)
            )
        }
        outcomes = {
            (suite, name, params)
            for suite, name, params in conn.execute(
                named.join(Outcome, Outcome.benchmark_id == Benchmark.id).where(
                    Outcome.run_id == run_id
                )
            )
        }
    benchmarks = []
    for b in result.benchmarks:
        key = (b.suite, b.name, canonical_params(b.params))
        kept = tuple(m for m in b.metrics if (*key, m.name) in metrics)
        if kept:
            benchmarks.append(replace(b, metrics=kept))
    return replace(
        result,
        run=replace(result.run, trigger=trigger),
        benchmarks=tuple(benchmarks),
        outcomes=tuple(
            o for o in result.outcomes if (o.suite, o.name, canonical_params(o.params)) in outcomes
        ),
    )


def run_metrics(store: Store, run_id: int) -> list[MetricRow]:
    query = (
        select(
            Benchmark.suite,
            Benchmark.name,
            Benchmark.params,
            Measurement.metric,
            Measurement.unit,
            Measurement.direction,
            Measurement.n,
            Measurement.median,
            Measurement.q1,
            Measurement.q3,
            Measurement.samples,
        )
        .join(Benchmark, Benchmark.id == Measurement.benchmark_id)
        .where(Measurement.run_id == run_id)
        .order_by(Benchmark.suite, Benchmark.name, Benchmark.params, Measurement.metric)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        MetricRow(
            suite,
            name,
            json.loads(params),
            metric,
            unit,
            direction,
            n,
            median,
            q1,
            q3,
            unpack(samples) if samples else (),
        )
        for suite, name, params, metric, unit, direction, n, median, q1, q3, samples in rows
    ]


def run_outcomes(store: Store, run_id: int) -> list[OutcomeRow]:
    query = (
        select(Benchmark.suite, Benchmark.name, Benchmark.params, Outcome.status, Outcome.reason)
        .join(Benchmark, Benchmark.id == Outcome.benchmark_id)
        .where(Outcome.run_id == run_id)
        .order_by(Outcome.status, Benchmark.suite, Benchmark.name, Benchmark.params)
    )
    with store.engine.connect() as conn:
        return [OutcomeRow(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in conn.execute(query)]


def environment_of(store: Store, run_id: int) -> dict[str, Any]:
    query = (
        select(Environment).join(Run, Run.environment_id == Environment.id).where(Run.id == run_id)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().one()
    return {k: v for k, v in row.items() if k != "id"}


def history(store: Store, name: str, metric: str, limit: int = 50) -> list[HistoryRow]:
    """A benchmark's measurements of `metric` across runs, oldest first; `name` matches
    the benchmark's name or suite::name."""
    suite, _, bare = name.rpartition("::")
    where = [Benchmark.name == bare, Measurement.metric == metric]
    if suite:
        where.append(Benchmark.suite == suite)
    query = (
        select(
            Run.id,
            Commit.sha,
            Commit.subject,
            Run.started_at,
            Machine.name,
            Benchmark.params,
            Measurement.unit,
            Measurement.n,
            Measurement.median,
            Measurement.q1,
            Measurement.q3,
        )
        .join(Run, Run.id == Measurement.run_id)
        .join(Benchmark, Benchmark.id == Measurement.benchmark_id)
        .join(Commit, Commit.id == Run.commit_id)
        .join(Machine, Machine.id == Run.machine_id)
        .where(*where)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = [HistoryRow(*r[:5], json.loads(r[5]), *r[6:]) for r in conn.execute(query)]
    return rows[::-1]


def first_parent_chain(store: Store, sha: str, limit: int = 500) -> list[str]:
    """`sha` and its first-parent ancestors as far as the store knows them: each stored
    commit's first parent, followed while it is a stored commit (the last sha may be one
    the store lacks), at most `limit` shas. Commits without runs are links like any other
    (`perfci.store.ancestry`). One recursive query on every backend."""
    link = String(64)  # both terms of the recursion have one type (PostgreSQL insists)
    start = select(cast(literal(sha), link).label("sha"), literal(1).label("depth"))
    chain = start.cte("chain", recursive=True)
    step = (
        select(cast(CommitParent.parent_sha, link), chain.c.depth + 1)
        .join(Commit, Commit.sha == chain.c.sha)
        .join(CommitParent, CommitParent.commit_id == Commit.id)
        .where(CommitParent.position == 0, chain.c.depth < limit)
    )
    chain = chain.union_all(step)
    query = select(chain.c.sha).order_by(chain.c.depth)
    with store.engine.connect() as conn:
        shas = [str(s) for s in conn.execute(query).scalars()]
    seen: set[str] = set()
    for i, found in enumerate(shas):  # a stored cycle (hand-made rows) ends the chain
        if found in seen:
            return shas[:i]
        seen.add(found)
    return shas


def commit_count(store: Store) -> int:
    """How many commits the store knows: no first-parent chain is longer."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Commit)).scalar() or 0)


def branch_tip(store: Store, branch: str | None) -> str | None:
    """The newest commit of `branch` (None: commits stored without a branch), as the
    store knows it: of the branch's commits measured outside pull requests, the one that
    is no first parent of another of its commits, measured or stored without runs (the
    unmeasured commits of a push lie between two measured ones); when several are
    (parents not recorded, a rewritten history), the one first measured last. A re-run of
    an older commit never makes it the newest, and a commit without runs never is one.
    None when the branch has no run outside pull requests."""
    on_branch = Commit.branch.is_(None) if branch is None else Commit.branch == branch
    measured = (
        select(
            Commit.id.label("id"),
            Commit.sha.label("sha"),
            func.min(Run.started_at).label("first"),
            func.min(Run.id).label("first_run"),
        )
        .join(Run, Run.commit_id == Commit.id)
        .where(on_branch, Run.trigger.not_in(NOT_HISTORY))
        .group_by(Commit.id, Commit.sha)
        .subquery()
    )
    unmeasured = select(Commit.id).where(on_branch, ~exists().where(Run.commit_id == Commit.id))
    parents = select(CommitParent.parent_sha).where(
        CommitParent.position == 0,
        CommitParent.commit_id.in_(select(measured.c.id).union(unmeasured)),
    )
    query = (
        select(measured.c.sha)
        .where(measured.c.sha.not_in(parents))
        .order_by(measured.c.first.desc(), measured.c.first_run.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        sha = conn.execute(query).scalar()
    return None if sha is None else str(sha)
