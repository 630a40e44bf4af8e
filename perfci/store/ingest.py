"""Writing runs: one transaction for a batch of results files, bulk inserts, no duplicates."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from perfci.environment import FINGERPRINT_FIELDS
from perfci.results import BenchmarkResult, CommitInfo, Outcome, RunResult, canonical_params
from perfci.stats.summary import summarize_many
from perfci.store import Store
from perfci.store.ancestry import lineages
from perfci.store.bulk import paused_gc
from perfci.store.engine import write_transaction
from perfci.store.models import (
    Benchmark,
    Commit,
    CommitParent,
    Environment,
    Machine,
    Measurement,
    Run,
    table_of,
)
from perfci.store.models import Outcome as OutcomeRow
from perfci.store.queries import IN_CHUNK
from perfci.store.samples import pack


@dataclass(frozen=True)
class Ingested:
    run_key: str
    run_id: int
    created: bool  # False: this run was stored before, nothing was written
    measurements: int


def benchmark_key(suite: str, name: str, params: dict[str, Any]) -> str:
    """The benchmark's identity in the store: sha256 of suite, name and canonical params."""
    return _key_of(suite, name, canonical_params(params))


def _key_of(suite: str, name: str, canonical: str) -> str:
    return hashlib.sha256("\0".join((suite, name, canonical)).encode()).hexdigest()


def utc(text: str | None) -> datetime | None:
    """An ISO-8601 time as naive UTC (the store's convention); naive input is taken as UTC."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def ingest_runs(
    store: Store, results: Sequence[RunResult], checkout: Path | None = Path()
) -> list[Ingested]:
    """Store every run in one transaction: all of them or, on any error, none.

    A run of a branch's history (trigger not in `NOT_HISTORY`) whose commit git in
    `checkout` (default: the working directory; None: git is not asked) knows brings the
    commit's unmeasured first-parent ancestors with it, back to the nearest commit the
    store has (`perfci.store.ancestry`): commits without runs, stored in the same
    transaction, so that history walks through them. A commit stored so and measured
    later keeps its one row.

    A unique-key clash means another writer stored the same run or benchmark between our
    look-up and our insert (PostgreSQL); the retry then finds it stored.
    """
    walks = lineages(store, results, checkout) if checkout is not None else {}
    for attempt in range(3):
        try:
            with paused_gc(), write_transaction(store.engine) as conn:
                return [_ingest(conn, r, walks.get(i, [])) for i, r in enumerate(results)]
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _insert_ignore(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """INSERT that skips rows whose unique key exists (another writer may have added it)."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    elif dialect == "sqlite":
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=keys), rows)
    else:  # other backends: writers are serialised by the caller's transaction
        conn.execute(insert(table), rows)


_MEASUREMENT_COLUMNS = (
    "run_id",
    "benchmark_id",
    "metric",
    "unit",
    "direction",
    "n",
    "median",
    "mean",
    "stddev",
    "min",
    "max",
    "q1",
    "q3",
    "samples",
)


def _insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk INSERT straight through the driver's executemany: on the hot path (thousands of
    measurements a run) SQLAlchemy's per-row parameter processing costs more than SQLite.
    The values are plain Python floats, ints, strings and bytes, which every driver binds."""
    compiled = (
        insert(table).values({c: bindparam(c) for c in columns}).compile(dialect=conn.dialect)
    )
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup or ()]
        params: list[Any] = [tuple(row[i] for i in order) for row in rows]
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def _get_or_create(
    conn: Connection, model: Any, keys: dict[str, Any], values: dict[str, Any]
) -> int:
    table = table_of(model)
    where = [table.c[k] == v for k, v in keys.items()]
    found = conn.execute(select(table.c.id).where(*where)).scalar()
    if found is None:
        _insert_ignore(conn, table, [{**keys, **values}], list(keys))
        found = conn.execute(select(table.c.id).where(*where)).scalar_one()
    return int(found)


def _commit_id(conn: Connection, commit: CommitInfo) -> int:
    table = table_of(Commit)
    values = {
        "branch": commit.branch,
        "author_time": utc(commit.author_time),
        "subject": commit.subject,
    }
    commit_id = _get_or_create(conn, Commit, {"sha": commit.sha}, values)
    # A commit first seen bare (e.g. --commit only) learns its metadata from later runs.
    known = {k: v for k, v in values.items() if v is not None}
    if known:
        conn.execute(
            update(table)
            .where(table.c.id == commit_id, *(table.c[k].is_(None) for k in known))
            .values(**known)
        )
    has_parents = conn.execute(
        select(CommitParent.commit_id).where(CommitParent.commit_id == commit_id).limit(1)
    ).first()
    if commit.parents and has_parents is None:
        conn.execute(
            insert(table_of(CommitParent)),
            [
                {"commit_id": commit_id, "position": i, "parent_sha": sha}
                for i, sha in enumerate(commit.parents)
            ],
        )
    return commit_id


def _completed(commit: CommitInfo, known: CommitInfo) -> CommitInfo:
    """`commit` with what it lacks (parents, author time, subject) from git's `known`."""
    return dataclasses.replace(
        commit,
        parents=commit.parents or known.parents,
        author_time=commit.author_time or known.author_time,
        subject=commit.subject or known.subject,
    )


def _store_ancestors(conn: Connection, walk: Sequence[CommitInfo], branch: str | None) -> None:
    """The ancestors of `walk` (a commit and its first-parent ancestors, newest first) down
    to the first one stored, as commits of `branch` without runs, in bulk."""
    ancestors = list(walk[1:])
    table = table_of(Commit)
    stored = set(_ids_of(conn, [c.sha for c in ancestors]))
    new = list(itertools.takewhile(lambda c: c.sha not in stored, ancestors))
    if not new:
        return
    rows = [
        {"sha": c.sha, "branch": branch, "author_time": utc(c.author_time), "subject": c.subject}
        for c in new
    ]
    _insert_ignore(conn, table, rows, ["sha"])
    ids = _ids_of(conn, [c.sha for c in new])
    parents = [
        {"commit_id": ids[c.sha], "position": i, "parent_sha": sha}
        for c in new
        for i, sha in enumerate(c.parents)
    ]
    _insert_ignore(conn, table_of(CommitParent), parents, ["commit_id", "position"])


def _ids_of(conn: Connection, shas: Sequence[str]) -> dict[str, int]:
    """The stored commits among `shas`, by sha."""
    table = table_of(Commit)
    found: dict[str, int] = {}
    for i in range(0, len(shas), IN_CHUNK):
        query = select(table.c.sha, table.c.id).where(table.c.sha.in_(shas[i : i + IN_CHUNK]))
        found.update((sha, int(id_)) for sha, id_ in conn.execute(query))
    return found


_MACHINE_FIELDS = FINGERPRINT_FIELDS  # every hardware field is stored, and fingerprinted
_ENVIRONMENT_FIELDS = ("os", "os_version", "python_version", "python_arch", "rosetta", "packages")


def _machine_id(conn: Connection, machine: dict[str, Any]) -> int:
    keys = {"fingerprint": machine["fingerprint"], "name": machine["name"]}
    values = {k: machine.get(k) for k in _MACHINE_FIELDS}
    return _get_or_create(conn, Machine, keys, values)


def _environment_id(conn: Connection, env: dict[str, Any]) -> int:
    values = {k: env.get(k) for k in _ENVIRONMENT_FIELDS}
    return _get_or_create(conn, Environment, {"fingerprint": env["fingerprint"]}, values)


def _benchmark_ids(conn: Connection, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Ids of benchmarks by key, creating the missing ones in bulk."""
    wanted = {row["key"]: row for row in rows}
    table = table_of(Benchmark)

    def lookup(keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i : i + IN_CHUNK]
            query = select(table.c.key, table.c.id).where(table.c.key.in_(chunk))
            found.update((key, int(id_)) for key, id_ in conn.execute(query))
        return found

    ids = lookup(list(wanted))
    missing = [wanted[k] for k in wanted if k not in ids]
    if missing:
        _insert_ignore(conn, table, missing, ["key"])
        ids.update(lookup([row["key"] for row in missing]))
    return ids


def _ingest(conn: Connection, result: RunResult, walk: Sequence[CommitInfo]) -> Ingested:
    """Stores one run, and the ancestors of `walk` (its commit's, from git) it lacks."""
    commit = result.commit
    if commit is None:
        raise ValueError("a run needs a commit before it is stored")
    key = result.run.run_id
    existing = conn.execute(select(Run.id).where(Run.run_key == key)).scalar()
    if existing is not None:
        return Ingested(key, int(existing), created=False, measurements=0)

    if walk:
        commit = _completed(commit, walk[0])
        _store_ancestors(conn, walk, commit.branch)
    run = result.run
    run_id = conn.execute(
        insert(table_of(Run)).returning(table_of(Run).c.id),
        {
            "run_key": key,
            "commit_id": _commit_id(conn, commit),
            "machine_id": _machine_id(conn, result.machine),
            "environment_id": _environment_id(conn, result.environment),
            "source": run.source,
            "status": run.status,
            "profile": run.profile,
            "trigger": run.trigger,
            "pr_number": run.pr_number,
            "ci_url": run.ci_url,
            "host": run.host,
            "started_at": utc(run.started_at),
            "finished_at": utc(run.finished_at),
            "ingested_at": datetime.now(UTC).replace(tzinfo=None),
            "thermal_state": run.thermal_state,
            "low_power_mode": run.low_power_mode,
            "load_average": run.load_average,
        },
    ).scalar_one()

    # Each benchmark's canonical params and key are computed once: this is the hot path.
    bench_rows = []
    items: tuple[BenchmarkResult | Outcome, ...] = (*result.benchmarks, *result.outcomes)
    for item in items:
        params = canonical_params(item.params)
        key = _key_of(item.suite, item.name, params)
        bench_rows.append({"key": key, "suite": item.suite, "name": item.name, "params": params})
    ids = _benchmark_ids(conn, bench_rows)
    row_ids = [ids[row["key"]] for row in bench_rows]
    metrics = [
        (bench_id, m)
        for bench_id, b in zip(row_ids, result.benchmarks, strict=False)
        for m in b.metrics
    ]
    with_samples = [m for _, m in metrics if m.samples]
    computed = iter(summarize_many([m.samples for m in with_samples]))
    measurements = []
    for bench_id, metric in metrics:
        summary = next(computed) if metric.samples else metric.summarized()
        measurements.append(
            (
                run_id,
                bench_id,
                metric.name,
                metric.unit,
                metric.direction,
                summary.n,
                summary.median,
                summary.mean,
                summary.stddev,
                summary.min,
                summary.max,
                summary.q1,
                summary.q3,
                pack(metric.samples) if metric.samples else None,
            )
        )
    if measurements:
        _insert_rows(conn, table_of(Measurement), _MEASUREMENT_COLUMNS, measurements)
    outcomes = [
        {
            "run_id": run_id,
            "benchmark_id": bench_id,
            "status": o.status,
            "reason": o.reason,
        }
        for bench_id, o in zip(row_ids[len(result.benchmarks) :], result.outcomes, strict=True)
    ]
    if outcomes:
        conn.execute(insert(table_of(OutcomeRow)), outcomes)
    return Ingested(key, int(run_id), created=True, measurements=len(measurements))
