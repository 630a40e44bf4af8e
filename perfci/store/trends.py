"""Main's recent history per benchmark metric, for the small trend beside a change: one
point a commit along the first-parent chain (the median of its runs' medians), oldest
first, from the runs of one machine and environment only."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from perfci.results import NOT_HISTORY
from perfci.store import Store
from perfci.store.queries import run_metrics, runs_of_commit
from perfci.verdicts import MetricKey, metric_key

TREND_COMMITS = 20
Trends = Mapping[MetricKey, Sequence[float]]


def recent_medians(
    store: Store,
    chain: Sequence[str],
    machine_fingerprint: str,
    environment_fingerprint: str,
    commits: int = TREND_COMMITS,
) -> dict[MetricKey, list[float]]:
    """For each metric measured on the first `commits` commits of `chain` (newest first,
    as an ancestry walk gives them) by pushes on that machine and environment: one value
    a commit, oldest first. A commit without such a run leaves no point."""
    per_commit: list[dict[MetricKey, list[float]]] = []
    for sha in chain[:commits]:
        values: dict[MetricKey, list[float]] = {}
        for run in runs_of_commit(store, sha):
            same = (run.machine_fingerprint, run.environment_fingerprint) == (
                machine_fingerprint,
                environment_fingerprint,
            )
            if run.sha != sha or not same or run.trigger in NOT_HISTORY:
                continue
            for row in run_metrics(store, run.id):
                key = metric_key(row.suite, row.name, row.params, row.metric)
                values.setdefault(key, []).append(row.median)
        per_commit.append(values)
    trends: dict[MetricKey, list[float]] = {}
    for values in reversed(per_commit):
        for key, medians in values.items():
            trends.setdefault(key, []).append(statistics.median(medians))
    return trends
