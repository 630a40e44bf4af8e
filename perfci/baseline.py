"""Choosing the base runs of a comparison from the store: same machine and environment,
along the first-parent history, several runs when main's recent history has them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfci.compare import (
    MAX_BASE_RUNS,
    MIN_RUNS,
    Baseline,
    Comparison,
    compare_metrics,
    condition_differences,
    environment_differences,
)
from perfci.store import Store
from perfci.store.queries import RunRow, environment_of, run_metrics, run_outcomes, runs_of_commit

HISTORY_RUNS = 30  # earlier runs in other environments kept to learn the noise from


def head_runs(store: Store, head: RunRow) -> list[RunRow]:
    """Every run of the head's commit on its machine and environment, newest first (the
    head itself among them): a commit measured three times is judged on all three, so
    one run that landed in a slow mode of the process does not speak for the commit."""
    return [
        run
        for run in runs_of_commit(store, head.sha)
        if run.sha == head.sha
        and run.machine_fingerprint == head.machine_fingerprint
        and _same_environment(run, head)
        and run.trigger == head.trigger
    ]


def choose_baseline(
    store: Store,
    head: RunRow,
    ancestry: Sequence[str],
    limit: int = MAX_BASE_RUNS,
    earlier_only: bool = True,
    main_only: bool = False,
    exclude: frozenset[int] = frozenset(),
) -> Baseline:
    """Up to `limit` earlier runs on the same machine fingerprint and environment, on the
    head's commit or its first-parent ancestors (`ancestry`: nearest first, e.g. the
    merge-base first); `earlier_only`: only runs started before the head; `main_only`:
    pull requests' runs are passed over, so a store that also holds them (the published
    dashboard's) finds its base in main's history, as the PR comment does. Runs on other
    hardware or software are reported, never silently compared; once base runs are
    found, the walk stops at the first run of this machine in another environment (an
    environment change ends the comparable history), while other machines' runs are
    passed over. When too few base runs tell the run-to-run noise, this machine's
    earlier runs in other environments are kept as `history` to learn it from.
    `exclude`: run ids that are the head's side (`head_runs`)."""
    chosen: list[RunRow] = []
    earlier: list[RunRow] = []  # this machine's runs beyond an environment change
    places: list[str] = []  # where each chosen run's commit is
    mismatch: RunRow | None = None
    for distance, sha in enumerate(ancestry):
        for run in runs_of_commit(store, sha):
            later = earlier_only and run.started_at > head.started_at
            pull = main_only and run.trigger == "pull_request"
            if run.sha != sha or run.id == head.id or run.id in exclude or later or pull:
                continue
            same_machine = run.machine_fingerprint == head.machine_fingerprint
            if earlier or (chosen and same_machine and not _same_environment(run, head)):
                if same_machine:  # this machine's comparable history has ended
                    earlier.append(run)
                    if len(chosen) + 1 >= MIN_RUNS or len(earlier) >= HISTORY_RUNS:
                        return _found(chosen, places, head, earlier)
                continue
            if not same_machine or not _same_environment(run, head):
                mismatch = mismatch or run
                continue  # another machine's run: its own series, passed over
            places.append(_place(sha, distance, ancestry, head))
            chosen.append(run)
            if len(chosen) >= limit:
                return _found(chosen, places, head, [])
    if chosen:
        return _found(chosen, places, head, earlier)
    if mismatch is None:
        if not ancestry or ancestry[0] == head.sha:
            return Baseline(None, "no earlier run of this commit or its ancestors")
        return Baseline(None, f"no run of commit {ancestry[0][:12]} or its first-parent ancestors")
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


def _same_environment(run: RunRow, head: RunRow) -> bool:
    return run.environment_fingerprint == head.environment_fingerprint


def _place(sha: str, distance: int, ancestry: Sequence[str], head: RunRow) -> str:
    """Where a base run's commit is, seen from the head: 'this commit', 'its first-parent
    ancestor <sha>, N commits back', or (when the walk began elsewhere, at a merge-base)
    'commit <sha>, N first-parent commits before <start>'."""
    if sha == head.sha:
        return "this commit"
    back = f"{distance} commit{'' if distance == 1 else 's'}"
    if ancestry and ancestry[0] == head.sha:
        return f"its first-parent ancestor {sha[:12]}, {back} back"
    if distance == 0:
        return f"commit {sha[:12]}"
    return f"commit {sha[:12]}, {back} before {ancestry[0][:12]} along first parents"


def _found(runs: list[RunRow], places: list[str], head: RunRow, earlier: list[RunRow]) -> Baseline:
    """The baseline of `runs` (nearest first), said as which runs and which commits they are
    on, e.g. 'run 7 of this commit' or '3 runs (newest: run 9) of this commit to its
    first-parent ancestor 0a1b2c3d4e5f, 2 commits back'."""
    count = (
        f"run {runs[0].id}" if len(runs) == 1 else f"{len(runs)} runs (newest: run {runs[0].id})"
    )
    conditions = condition_differences(
        [r.conditions for r in runs], head.conditions, head.cpu_cores
    )
    history = tuple(r.id for r in earlier) if len(runs) + 1 < MIN_RUNS else ()
    span = " to ".join(dict.fromkeys((places[0], places[-1])))
    reason = f"{count} of {span}"
    return Baseline(runs[0], reason, tuple(runs), (), tuple(conditions), history)


def compare_runs(
    store: Store,
    base_run_ids: Sequence[int],
    head_run_ids: Sequence[int],
    min_effect: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    history_run_ids: Sequence[int] = (),
    nearest_base: int = 0,
) -> list[Comparison]:
    """`compare_metrics` between stored runs; `history_run_ids` (nearest first, as
    `Baseline.history`): earlier runs whose medians, before the base runs', tell the
    run-to-run noise when base and head runs are too few to; `nearest_base`: how many
    of the first base runs are of the base commit (`Baseline.nearest`)."""
    outcomes = [o for rid in head_run_ids for o in run_outcomes(store, rid)]
    kwargs = {} if min_effect is None else {"min_effect": min_effect}
    base = [run_metrics(store, rid) for rid in base_run_ids]
    history: dict[tuple[str, str, str, str], list[float]] = {}
    for run in [*[run_metrics(store, rid) for rid in reversed(history_run_ids)], *base[::-1]]:
        for row in run:
            history.setdefault(row.key, []).append(row.median)
    return compare_metrics(
        base,
        [run_metrics(store, rid) for rid in head_run_ids],
        outcomes,
        thresholds=thresholds,
        history=history if history_run_ids else None,
        nearest_base=nearest_base,
        **kwargs,
    )
