"""History mode on the store: change points along a branch's first-parent history, kept
as alerts.

A series is one benchmark's metric on one machine fingerprint, one point per run (its
median; a commit with three runs gives three points), ordered along the first-parent
chain of the branch's newest run; a change is placed only between commits. A different
environment fingerprint between consecutive runs (new torch, new OS) is recorded as an
`environment` alert and starts a new segment: the detector never compares values across
it, so such a change is not blamed on a commit. Within a segment the detector takes its
incremental steps (`perfci.stats.incremental.step`, the steps `replay` takes) on only
the newest `recheck` tails after the last alert, as CI does after each run (every tail
with `recheck=None`); an alert already stored for the same series, commit and kind is
not written again. A change whose first run follows commits without runs (the commits of
a push that were not measured, which the store keeps from git, `perfci.store.ancestry`)
is attributed to the range last_good_commit..commit, which `perfci bisect ALERT_ID`
searches; a drift (values that moved gradually, `shape` `drift`) to the range from the
first commit of the values that drifted to the commit where the change is placed. A
drift found again in the segment its open alert began is that drift going on: the alert
moves to the newest change and its magnitude grows. `check_history` also says, per
series, how many runs its open segment has and how many more it needs before a change in
it can be judged. The store's rows are read and written by
`perfci.store.alert_rows`; this module is the policy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import numpy as np

from perfci.config import Config
from perfci.stats.change import ChangePoint
from perfci.stats.coverage import coverage
from perfci.stats.incremental import Segment, step
from perfci.stats.segments import MIN_EFFECT, Direction, Kind, Shape, cuts_of
from perfci.store import Store
from perfci.store.alert_rows import (
    BenchmarkName,
    MovedAlert,
    NewAlert,
    SeriesKey,
    SeriesPoint,
    acknowledge_open,
    benchmark_names,
    listed_alerts,
    machine_fingerprints,
    machine_names,
    metric_directions,
    series_points,
    stored_alerts,
    write_alerts,
)
from perfci.store.bisect_rows import alert_ids
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
    id: int = 0  # the stored alert's id (`perfci bisect ALERT_ID`)
    bisected: str | None = None  # the first bad commit `perfci bisect` found in the range


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
class BranchCheck:
    """A check of a branch: all alerts of its series (`update_alerts`), and each series'
    state."""

    alerts: list[AlertRow]
    series: list[SeriesState]


@dataclass(frozen=True)
class _Found:
    series: SeriesKey
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
_CHANGES = ("regression", "improvement")


def branch_head(store: Store, branch: str) -> str:
    """The newest commit of `branch` (`queries.branch_tip`: a re-run of an older commit,
    stored last, does not make the walk start there); AlertsError when there is none."""
    sha = branch_tip(store, branch)
    if sha is None:
        raise AlertsError(f"no runs on branch {branch!r} in the store")
    return sha


def _last_good(points: list[SeriesPoint], index: int) -> int | None:
    """The previous run's commit when commits without runs lie between the two."""
    before, after = points[index - 1], points[index]
    return before.commit_id if after.position - before.position > 1 else None


def _scan(
    key: SeriesKey,
    points: list[SeriesPoint],
    direction: str,
    stored: _Stored,
    min_effect: float,
    recheck: int | None,
) -> tuple[list[_Found], int]:
    """The alerts of one series, and where its open segment begins: environment changes,
    and each change the detector's steps find in the tails it re-checks after the last
    stored alert (one value per run, a change only between commits); a drift that keeps
    going grows the drift alert its segment began at (`alert_id` set when that one is
    stored), unless that alert is no longer open."""
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
    growing = previous if previous is not None and previous.status == "open" else None
    segment = Segment(start, None if growing is None else _as_change(growing, start))
    values = np.asarray([p.value for p in points], dtype=np.float64)
    cuts = cuts_of([p.commit_id for p in points], len(points))
    first_end = segment.first_end
    if recheck is not None:
        first_end = max(first_end, len(points) - recheck + 1)
    for end in range(first_end, len(points) + 1):
        done = step(values, end, segment, cast(Direction, direction), min_effect, cuts)
        if done is None:
            continue
        change, i = done.change, done.change.index
        if done.grown and previous is not None:
            # the open drift the segment began at, grown: it keeps its first commit (an
            # acknowledged one that goes on is a new alert)
            good, alert_id = previous.last_good_id, previous.alert_id
            if found and found[-1] is previous:
                found.pop()
        else:
            drift = change.shape == "drift"
            good = points[change.start].commit_id if drift else _last_good(points, i)
            alert_id = None
        here = _Found(
            key,
            points[i].machine_id,
            points[i].commit_id,
            good,
            change.kind,
            change.ratio,
            None,
            change.shape,
            alert_id,
        )
        found.append(here)
        previous, segment = here, done.segment
    return found, segment.start


def _as_change(alert: _Found, index: int) -> ChangePoint:
    """An alert of the series as the detector's change at `index`, for the drift that a
    step may find it growing into."""
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
) -> BranchCheck:
    """`update_alerts`, and what each series can be judged for (`SeriesState`)."""
    config = config or Config()
    chain = first_parent_chain(store, branch_head(store, branch), limit=5000)
    series = series_points(store, chain)
    directions = metric_directions(store)
    machine_of = machine_fingerprints(store)
    benchmarks = benchmark_names(store)
    stored = _stored(store, machine_of)
    new: list[_Found] = []
    grown: list[_Found] = []
    opened: dict[SeriesKey, int] = {}
    for key, points in series.items():
        direction = directions.get((key[0], key[1]), "lower")
        effect = config.min_effect_for(_name(benchmarks[key[0]]), min_effect)
        found, opened[key] = _scan(key, points, direction, stored[key], effect, recheck)
        for f in found:
            if (f.commit_id, f.kind) in stored[key]:
                continue
            stored[key][(f.commit_id, f.kind)] = f
            (new if f.alert_id is None else grown).append(f)
    now = datetime.now(UTC).replace(tzinfo=None)
    write_alerts(  # a drift that goes on: its alert moves to the newest change, grown
        store,
        [_new_alert(f) for f in new],
        [MovedAlert(f.alert_id, f.commit_id, f.magnitude) for f in grown if f.alert_id is not None],
        now,
    )
    _acknowledge(store, config, benchmarks)
    new_keys = {
        (f.series[0], f.series[1], f.machine_id, f.commit_id, f.kind) for f in (*new, *grown)
    }
    alerts = [
        row
        for key, row in list_alerts(store, new_keys)
        if (key[0], key[1], machine_of[key[2]]) in series
    ]
    return BranchCheck(alerts, _states(store, series, opened, benchmarks))


def _stored(store: Store, machine_of: dict[int, str]) -> dict[SeriesKey, _Stored]:
    """The stored alerts of every series, by (commit id, kind)."""
    stored: dict[SeriesKey, _Stored] = defaultdict(dict)
    for a in stored_alerts(store):
        key = (a.benchmark_id, a.metric, machine_of[a.machine_id])
        stored[key][(a.commit_id, a.kind)] = _Found(
            key,
            a.machine_id,
            a.commit_id,
            a.last_good_commit_id,
            a.kind,
            a.magnitude,
            a.reason,
            a.shape,
            a.id,
            a.status,
        )
    return stored


def _new_alert(f: _Found) -> NewAlert:
    bench, metric, _ = f.series
    return NewAlert(
        bench,
        metric,
        f.machine_id,
        f.commit_id,
        f.last_good_id,
        f.kind,
        f.shape,
        f.magnitude,
        f.reason,
    )


def _states(
    store: Store,
    series: dict[SeriesKey, list[SeriesPoint]],
    opened: dict[SeriesKey, int],
    benchmarks: dict[int, BenchmarkName],
) -> list[SeriesState]:
    """Each series' `SeriesState`, in the order of its benchmark, metric and machine."""
    names = machine_names(store)
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
                _label(benchmarks[key[0]]),
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


def _name(benchmark: BenchmarkName) -> str:
    """suite::name, as configuration names a benchmark."""
    return f"{benchmark.suite}::{benchmark.name}"


def _label(benchmark: BenchmarkName) -> str:
    """suite::name[params], as reports show a benchmark."""
    params = benchmark.params
    return _name(benchmark) + (f"[{params}]" if params not in ("{}", "") else "")


def _acknowledge(store: Store, config: Config, benchmarks: dict[int, BenchmarkName]) -> None:
    """Open regression and improvement alerts that an acknowledgement matches become
    `acknowledged`, with its reason."""
    if not config.acknowledgements:
        return
    acknowledge_open(
        store, lambda bench, metric, sha: config.acknowledged(_name(benchmarks[bench]), metric, sha)
    )


def list_alerts(
    store: Store, new: set[tuple[int, str, int, int, str]] | None = None
) -> list[tuple[tuple[int, str, int], AlertRow]]:
    """Every stored alert with its series key (benchmark id, metric, machine id), oldest
    first; `new` marks those just written."""
    out = []
    marks = alert_ids(store)
    for a in listed_alerts(store):
        key = (a.benchmark_id, a.metric, a.machine_id)
        is_new = new is not None and (*key, a.commit_id, a.kind) in new
        alert_id, bisected = marks.get((*key, a.commit_id, a.kind), (0, None))
        row = AlertRow(
            _label(a.benchmark),
            a.metric,
            a.machine,
            a.sha,
            a.last_good_sha,
            a.kind,
            a.magnitude,
            a.status,
            a.reason,
            is_new,
            a.shape,
            alert_id,
            bisected,
        )
        out.append((key, row))
    return out
