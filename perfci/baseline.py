"""Choosing the base runs of a comparison from the store: same machine and environment,
along the first-parent history, several runs when main's recent history has them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfci.compare import (
    MAX_BASE_RUNS,
    Baseline,
    Comparison,
    compare_metrics,
    condition_differences,
    environment_differences,
)
from perfci.store import Store
from perfci.store.queries import RunRow, environment_of, run_metrics, run_outcomes, runs_of_commit


def choose_baseline(
    store: Store,
    head: RunRow,
    ancestry: Sequence[str],
    limit: int = MAX_BASE_RUNS,
    earlier_only: bool = True,
    main_only: bool = False,
) -> Baseline:
    """Up to `limit` earlier runs on the same machine fingerprint and environment, on the
    head's commit or its first-parent ancestors (`ancestry`: nearest first, e.g. the
    merge-base first); `earlier_only`: only runs started before the head; `main_only`:
    pull requests' runs are passed over, so a store that also holds them (the published
    dashboard's) finds its base in main's history, as the PR comment does. Runs on other
    hardware or software are reported, never silently compared; once base runs are
    found, the walk stops at the first run of this machine in another environment (an
    environment change ends the comparable history), while other machines' runs are
    passed over."""
    chosen: list[RunRow] = []
    where = ""
    mismatch: RunRow | None = None
    for distance, sha in enumerate(ancestry):
        for run in runs_of_commit(store, sha):
            later = earlier_only and run.started_at > head.started_at
            pull = main_only and run.trigger == "pull_request"
            if run.sha != sha or run.id == head.id or later or pull:
                continue
            same_machine = run.machine_fingerprint == head.machine_fingerprint
            if not same_machine or run.environment_fingerprint != head.environment_fingerprint:
                mismatch = mismatch or run
                if chosen and same_machine:  # this machine's comparable history ends here
                    return _found(chosen, where, head)
                continue  # another machine's run: its own series, passed over
            if not chosen:
                where = (
                    "an earlier run of this commit"
                    if distance == 0
                    else f"commit {sha[:12]}, {distance} first-parent step(s) back"
                )
            chosen.append(run)
            if len(chosen) >= limit:
                return _found(chosen, where, head)
    if chosen:
        return _found(chosen, where, head)
    if mismatch is None:
        return Baseline(None, "no earlier run of this commit or its ancestors")
    if mismatch.machine_fingerprint != head.machine_fingerprint:
        return Baseline(None, f"the nearest earlier run ({mismatch.id}) was on other hardware")
    diffs = environment_differences(
        environment_of(store, mismatch.id), environment_of(store, head.id)
    )
    return Baseline(
        None,
        f"the nearest earlier run ({mismatch.id}) had another environment: {'; '.join(diffs)}",
        differences=tuple(diffs),
    )


def _found(runs: list[RunRow], where: str, head: RunRow) -> Baseline:
    more = f" (+{len(runs) - 1} earlier run(s) for noise)" if len(runs) > 1 else ""
    conditions = condition_differences(
        [r.conditions for r in runs], head.conditions, head.cpu_cores
    )
    return Baseline(runs[0], f"run {runs[0].id}{more}: {where}", tuple(runs), (), tuple(conditions))


def compare_runs(
    store: Store,
    base_run_ids: Sequence[int],
    head_run_ids: Sequence[int],
    min_effect: float | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> list[Comparison]:
    """`compare_metrics` between stored runs."""
    outcomes = [o for rid in head_run_ids for o in run_outcomes(store, rid)]
    kwargs = {} if min_effect is None else {"min_effect": min_effect}
    return compare_metrics(
        [run_metrics(store, rid) for rid in base_run_ids],
        [run_metrics(store, rid) for rid in head_run_ids],
        outcomes,
        thresholds=thresholds,
        **kwargs,
    )
