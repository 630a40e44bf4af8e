"""The store's side of `perfci bisect`: an alert's commit range as a bisection needs it,
and the first bad commit a bisection found, written on the alert (one transaction)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from perfci.store import Store
from perfci.store.engine import StoreError, write_transaction
from perfci.store.models import Alert, Benchmark, Commit, table_of


@dataclass(frozen=True)
class AlertRange:
    """A stored alert: its series' benchmark and metric, and its commits. The change lies
    in `good`..`bad` (`good` None: the alert names one commit); `bisected` is the first
    bad commit an earlier bisection found."""

    id: int
    suite: str
    name: str
    params: str  # canonical JSON
    metric: str
    kind: str
    shape: str
    magnitude: float
    good: str | None
    bad: str
    bisected: str | None


def alert_range(store: Store, alert_id: int) -> AlertRange | None:
    """The alert with id `alert_id`, or None when there is none."""
    good, found = aliased(Commit), aliased(Commit)
    query = (
        select(
            Alert.id,
            Benchmark.suite,
            Benchmark.name,
            Benchmark.params,
            Alert.metric,
            Alert.kind,
            Alert.shape,
            Alert.magnitude,
            good.sha,
            Commit.sha,
            found.sha,
        )
        .join(Benchmark, Benchmark.id == Alert.benchmark_id)
        .join(Commit, Commit.id == Alert.commit_id)
        .outerjoin(good, good.id == Alert.last_good_commit_id)
        .outerjoin(found, found.id == Alert.bisected_commit_id)
        .where(Alert.id == alert_id)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else AlertRange(*row)


def record_bisected(store: Store, alert_id: int, sha: str) -> None:
    """Stores `sha` (a stored commit) as the first bad commit of the alert's range."""
    table = table_of(Alert)
    with write_transaction(store.engine) as conn:
        commit_id = conn.execute(select(Commit.id).where(Commit.sha == sha)).scalar_one_or_none()
        if commit_id is None:
            raise StoreError(f"commit {sha[:12]} is not in the store")
        done = conn.execute(
            update(table).where(table.c.id == alert_id).values(bisected_commit_id=commit_id)
        )
        if done.rowcount != 1:
            raise StoreError(f"no alert {alert_id} in the store")


AlertKey = tuple[int, str, int, int, str]  # benchmark id, metric, machine id, commit id, kind


def alert_ids(store: Store) -> dict[AlertKey, tuple[int, str | None]]:
    """Every stored alert's id and the first bad commit bisected in its range (or None),
    by the key history mode stores an alert once under."""
    found = aliased(Commit)
    query = select(
        Alert.benchmark_id,
        Alert.metric,
        Alert.machine_id,
        Alert.commit_id,
        Alert.kind,
        Alert.id,
        found.sha,
    ).outerjoin(found, found.id == Alert.bisected_commit_id)
    with store.engine.connect() as conn:
        return {(b, m, mid, c, k): (i, sha) for b, m, mid, c, k, i, sha in conn.execute(query)}
