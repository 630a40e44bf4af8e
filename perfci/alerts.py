"""History mode on the store: change points along a branch's first-parent history, kept
as alerts.

A series is one benchmark's metric on one machine fingerprint, one point per run (its
median; a commit with three runs gives three points), ordered along the first-parent
chain of the branch's newest run; a change is placed only between commits. A different
environment fingerprint between consecutive runs (new torch, new OS) is recorded as an
`environment` alert and starts a new segment: the detector never compares values across
it, so such a change is not blamed on a commit. Within a segment the detector
(`perfci.stats.changepoint.check_tail`) re-checks only the newest `recheck` tails after
the last alert, as CI does after each run (every tail with `recheck=None`); an alert
already stored for the same series, commit and kind is not written again. A change whose
first run follows commits without runs is attributed to the range
last_good_commit..commit; a drift (values that moved gradually, `shape` `drift`) to the
range from the first commit of the values that drifted to the commit where the change
is placed. A drift found again in the segment its open alert began is that drift going
on: the alert moves to the newest change and its magnitude grows. `check_history` also
says, per series, how many runs its open segment has and how many more it needs before
a change in it can be judged.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import insert, select, update

from perfci.config import Config
from perfci.stats.changepoint import (
    MIN_AFTER,
    MIN_BEFORE,
    MIN_EFFECT,
    ChangePoint,
    Kind,
    Shape,
    check_tail,
    continued,
    coverage,
)
from perfci.store import Store
from perfci.store.engine import write_transaction
from perfci.store.models import (
    Alert,
    Benchmark,
    Commit,
    Machine,
    Measurement,
    Run,
    table_of,
)
from perfci.store.queries import branch_tip, first_parent_chain

RECHECK = 20  # tails re-checked per call: runs ingested since the last call, and some


class AlertsError(ValueError):
    """History mode cannot run (no runs on the branch); one line for the user."""


@dataclass(frozen=True)
class AlertRow:
    """One stored alert. `last_good_commit` is set when runs are missing between it and
    `commit` (the change lies in that range), and for a drift (`shape`), where it began;
    `new` when this call wrote it."""

    benchmark: str  # suite::name[params]
    metric: str
    machine: str
    commit: str
    last_good_commit: str | None
    kind: str
    magnitude: float
    status: str
    reason: str | None
    new: bool
    shape: str = "step"


@dataclass(frozen=True)
class SeriesState:
    """What one series (benchmark, metric, machine) can be judged for after a check.
    `runs`: its runs along the chain; the open segment, since `opened_by` (`start`: the
    series' first run; `environment`: an environment change; `alert`: the last alert),
    begins at commit `since` and has `segment_runs` runs; `needs`: how many more runs, at
    least, before a change in it can be judged (0: one can be now). A change needs
    `MIN_BEFORE` runs of its segment before it and `MIN_AFTER` after."""

    benchmark: str  # suite::name[params]
    metric: str
    machine: str
    runs: int
    segment_runs: int
    since: str
    opened_by: str
    needs: int

    @property
    def too_short(self) -> bool:
        return self.needs > 0


@dataclass(frozen=True)
class History:
    """A check of a branch: all alerts of its series (`update_alerts`), and each series'
    state."""

    alerts: list[AlertRow]
    series: list[SeriesState]


@dataclass
class _Point:
    position: int  # along the chain, oldest first
    started_at: datetime
    commit_id: int
    sha: str
    environment_id: int
    machine_id: int
    value: float


@dataclass
class _Found:
    series: tuple[int, str, str]
    machine_id: int
    commit_id: int
    last_good_id: int | None
    kind: str
    magnitude: float
    reason: str | None
    shape: str = "step"
    alert_id: int | None = None  # the stored alert this one is (a drift that grew)
    status: str = "open"


_Stored = dict[tuple[int, str], _Found]  # one series' stored alerts by (commit id, kind)


def branch_head(store: Store, branch: str) -> str:
    """The newest commit of `branch` (`queries.branch_tip`: a re-run of an older commit,
    stored last, does not make the walk start there); AlertsError when there is none."""
    sha = branch_tip(store, branch)
    if sha is None:
        raise AlertsError(f"no runs on branch {branch!r} in the store")
    return sha


def _series(store: Store, chain: list[str]) -> dict[tuple[int, str, str], list[_Point]]:
    """Every series along the chain: (benchmark id, metric, machine fingerprint) → points."""
    position = {sha: i for i, sha in enumerate(reversed(chain))}
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
        .where(Commit.sha.in_(chain))
    )
    out: dict[tuple[int, str, str], list[_Point]] = defaultdict(list)
    with store.engine.connect() as conn:
        for bench, metric, fp, started, cid, sha, env, mid, median in conn.execute(query):
            if median is None or not median > 0:
                continue
            out[(bench, metric, fp)].append(
                _Point(position[sha], started, cid, sha, env, mid, float(median))
            )
    for points in out.values():
        points.sort(key=lambda p: (p.position, p.started_at))
    return out


def _directions(store: Store) -> dict[tuple[int, str], str]:
    query = select(Measurement.benchmark_id, Measurement.metric, Measurement.direction).distinct()
    with store.engine.connect() as conn:
        return {(b, m): d for b, m, d in conn.execute(query)}


def _last_good(points: list[_Point], index: int) -> int | None:
    """The previous run's commit when commits without runs lie between the two."""
    before, after = points[index - 1], points[index]
    return before.commit_id if after.position - before.position > 1 else None


def _scan(
    key: tuple[int, str, str],
    points: list[_Point],
    direction: str,
    stored: _Stored,
    min_effect: float,
    recheck: int | None,
) -> tuple[list[_Found], int]:
    """The alerts of one series, and where its open segment begins: environment changes,
    and each change the detector finds in the tails it re-checks after the last stored
    alert (one value per run, a change only between commits); a drift that keeps going
    grows the drift alert its segment began at (`alert_id` set when that one is
    stored)."""
    found: list[_Found] = []
    start = 0
    for i in range(1, len(points)):
        if points[i].environment_id != points[i - 1].environment_id:
            ratio = points[i].value / points[i - 1].value
            found.append(
                _Found(
                    key,
                    points[i].machine_id,
                    points[i].commit_id,
                    _last_good(points, i),
                    "environment",
                    ratio,
                    "environment fingerprint changed",
                )
            )
            start = i
    stored_at = [  # the first run of each commit with a stored alert
        i
        for i, p in enumerate(points)
        if ((p.commit_id, "regression") in stored or (p.commit_id, "improvement") in stored)
        and (i == 0 or points[i - 1].commit_id != p.commit_id)
    ]
    start = max([start, *(i for i in stored_at if i >= start)])
    opened = [stored.get((points[start].commit_id, kind)) for kind in _CHANGES]
    previous = next((f for f in opened if f is not None), None)  # the alert the segment began at
    values = [p.value for p in points]
    commits = [p.commit_id for p in points]
    first_end = start + MIN_BEFORE + MIN_AFTER
    if recheck is not None:
        first_end = max(first_end, len(points) - recheck + 1)
    for end in range(first_end, len(points) + 1):
        change = check_tail(
            values[:end],
            start,
            direction,  # type: ignore[arg-type]
            min_effect,
            groups=commits[:end],
        )
        if change is None:
            continue
        i = change.index
        drift = change.shape == "drift"
        here = _Found(
            key,
            points[i].machine_id,
            points[i].commit_id,
            points[change.start].commit_id if drift else _last_good(points, i),
            change.kind,
            change.ratio,
            None,
            change.shape,
        )
        # an open drift found again in the segment it began is that drift, grown (an
        # acknowledged one that goes on is a new alert)
        if previous is not None and previous.status == "open":
            grown = continued(_as_change(previous, start), change)
            if grown is not None:
                here = dataclasses.replace(
                    here,
                    last_good_id=previous.last_good_id,
                    magnitude=grown.ratio,
                    alert_id=previous.alert_id,
                )
                if found and found[-1] is previous:
                    found.pop()
        found.append(here)
        previous, start = here, i
    return found, start


def _as_change(alert: _Found, index: int) -> ChangePoint:
    """An alert of the series as the detector's change at `index`, for `continued`."""
    kind, shape = cast(Kind, alert.kind), cast(Shape, alert.shape)
    return ChangePoint(index, kind, alert.magnitude, 0.0, shape)


def update_alerts(
    store: Store,
    branch: str = "main",
    min_effect: float = MIN_EFFECT,
    recheck: int | None = RECHECK,
    config: Config | None = None,
) -> list[AlertRow]:
    """Checks every series on `branch`'s first-parent history, stores the alerts it finds
    (at most once each) and returns all alerts of those series, oldest first. `recheck`:
    how many of the newest runs of a series are re-checked; None replays all of them (a
    store rebuilt from results files has none of the alerts found run by run). With
    `config`: per-benchmark minimum effects, and alerts (new or open) that an
    acknowledgement matches get status `acknowledged` and its reason."""
    return check_history(store, branch, min_effect, recheck, config).alerts


def check_history(
    store: Store,
    branch: str = "main",
    min_effect: float = MIN_EFFECT,
    recheck: int | None = RECHECK,
    config: Config | None = None,
) -> History:
    """`update_alerts`, and what each series can be judged for (`SeriesState`)."""
    config = config or Config()
    chain = first_parent_chain(store, branch_head(store, branch), limit=5000)
    series = _series(store, chain)
    directions = _directions(store)
    machine_of = _machine_fingerprints(store)
    labels = _labels(store)
    stored: dict[tuple[int, str, str], _Stored] = defaultdict(dict)
    for f in _stored_alerts(store, machine_of):
        stored[f.series][(f.commit_id, f.kind)] = f
    new: list[_Found] = []
    grown: list[_Found] = []
    opened: dict[tuple[int, str, str], int] = {}
    for key, points in series.items():
        direction = directions.get((key[0], key[1]), "lower")
        effect = config.min_effect_for(labels[key[0]], min_effect)
        found, opened[key] = _scan(key, points, direction, stored[key], effect, recheck)
        for f in found:
            if (f.commit_id, f.kind) in stored[key]:
                continue
            stored[key][(f.commit_id, f.kind)] = f
            (new if f.alert_id is None else grown).append(f)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "benchmark_id": f.series[0],
            "metric": f.series[1],
            "machine_id": f.machine_id,
            "commit_id": f.commit_id,
            "last_good_commit_id": f.last_good_id,
            "kind": f.kind,
            "shape": f.shape,
            "magnitude": f.magnitude,
            "status": "open",
            "reason": f.reason,
            "detected_at": now,
        }
        for f in new
    ]
    table = table_of(Alert)
    with write_transaction(store.engine) as conn:
        if rows:
            conn.execute(insert(table), rows)
        for f in grown:  # the drift goes on: its alert moves to the newest change, grown
            conn.execute(
                update(table)
                .where(table.c.id == f.alert_id)
                .values(commit_id=f.commit_id, magnitude=f.magnitude, detected_at=now)
            )
    _acknowledge(store, config, labels)
    new_keys = {
        (f.series[0], f.series[1], f.machine_id, f.commit_id, f.kind) for f in (*new, *grown)
    }
    alerts = [
        row
        for key, row in list_alerts(store, new_keys)
        if (key[0], key[1], machine_of[key[2]]) in series
    ]
    return History(alerts, _states(store, series, opened))


def _states(
    store: Store,
    series: dict[tuple[int, str, str], list[_Point]],
    opened: dict[tuple[int, str, str], int],
) -> list[SeriesState]:
    """Each series' `SeriesState`, in the order of its benchmark, metric and machine."""
    with store.engine.connect() as conn:
        names = {i: str(name) for i, name in conn.execute(select(Machine.id, Machine.name))}
        benchmarks = conn.execute(
            select(Benchmark.id, Benchmark.suite, Benchmark.name, Benchmark.params)
        ).all()
    label = {i: _label(suite, name, params) for i, suite, name, params in benchmarks}
    states = []
    for key, points in series.items():
        start = opened[key]
        if start == 0:
            why = "start"
        elif points[start].environment_id != points[start - 1].environment_id:
            why = "environment"
        else:
            why = "alert"
        commits = [p.commit_id for p in points]
        needs = coverage(len(points), [start], commits).needs
        states.append(
            SeriesState(
                label[key[0]],
                key[1],
                names[points[-1].machine_id],
                len(points),
                len(points) - start,
                points[start].sha,
                why,
                needs,
            )
        )
    return sorted(states, key=lambda s: (s.benchmark, s.metric, s.machine))


_CHANGES = ("regression", "improvement")


def _stored_alerts(store: Store, machine_of: dict[int, str]) -> list[_Found]:
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
        rows = conn.execute(query).all()
    return [
        _Found((b, metric, machine_of[mid]), mid, cid, good, kind, size, why, shape, id_, status)
        for id_, b, metric, mid, cid, good, kind, size, why, shape, status in rows
    ]


def _label(suite: str, name: str, params: str) -> str:
    """suite::name[params], as reports show a benchmark."""
    return f"{suite}::{name}" + (f"[{params}]" if params not in ("{}", "") else "")


def _labels(store: Store) -> dict[int, str]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(Benchmark.id, Benchmark.suite, Benchmark.name))
        return {i: f"{suite}::{name}" for i, suite, name in rows}


def _acknowledge(store: Store, config: Config, labels: dict[int, str]) -> None:
    """Open regression and improvement alerts that an acknowledgement matches become
    `acknowledged`, with its reason."""
    if not config.acknowledgements:
        return
    table = table_of(Alert)
    query = (
        select(Alert.id, Alert.benchmark_id, Alert.metric, Commit.sha)
        .join(Commit, Commit.id == Alert.commit_id)
        .where(Alert.status == "open", Alert.kind != "environment")
    )
    with write_transaction(store.engine) as conn:
        for alert_id, bench, metric, sha in conn.execute(query).all():
            reason = config.acknowledged(labels[bench], metric, sha)
            if reason is not None:
                conn.execute(
                    update(table)
                    .where(table.c.id == alert_id)
                    .values(status="acknowledged", reason=reason)
                )


def _machine_fingerprints(store: Store) -> dict[int, str]:
    with store.engine.connect() as conn:
        return {i: fp for i, fp in conn.execute(select(Machine.id, Machine.fingerprint))}


def list_alerts(
    store: Store, new: set[tuple[int, str, int, int, str]] | None = None
) -> list[tuple[tuple[int, str, int], AlertRow]]:
    """Every stored alert with its series key (benchmark id, metric, machine id), oldest
    first; `new` marks those just written."""
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
            label = _label(suite, name, params)
            is_new = new is not None and (bench, metric, mid, cid, kind) in new
            out.append(
                (
                    (bench, metric, mid),
                    AlertRow(
                        label,
                        metric,
                        machine,
                        sha,
                        good_sha,
                        kind,
                        magnitude,
                        status,
                        reason,
                        is_new,
                        shape,
                    ),
                )
            )
    return out
