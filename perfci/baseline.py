"""A head compared with its baseline: `compare_head` is the one way every report gets
its verdicts (`perfci run`, `perfci compare` from the store or from files, the PR comment
and the dashboard's pull-request pages), so no two of them can judge one head apart.

The base runs come from the store: same machine and environment, along the first-parent
history (`ancestry`), several runs when main's recent history has them; or they are the
results files given. The verdicts are `perfci.compare.compare_metrics`'s, with the
configuration's minimum effects and acknowledgements.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfci.compare import (
    MAX_BASE_RUNS,
    MIN_RUNS,
    Baseline,
    Comparison,
    ResultsFile,
    compare_metrics,
    condition_differences,
    environment_differences,
)
from perfci.config import Config
from perfci.context import first_parent_chain as git_first_parent_chain
from perfci.results import NOT_HISTORY
from perfci.store import Store
from perfci.store.queries import RunRow, environment_of, run_metrics, run_outcomes, runs_of_commit
from perfci.store.queries import first_parent_chain as stored_first_parent_chain
from perfci.store.trends import Trends, recent_medians
from perfci.verdicts import MetricKey, metric_key

HISTORY_RUNS = 30  # earlier runs in other environments kept to learn the noise from
ANCESTRY_LIMIT = 500  # commits walked down the first-parent chain at most


def ancestry(store: Store, sha: str, cwd: Path | None = None) -> list[str]:
    """`sha` and its first-parent ancestors, nearest first: the chain a baseline is
    looked for along. From git when `cwd` is a checkout that knows `sha`: git knows the
    commits no run measured, so an unmeasured commit (a merge-base whose push was never
    run) does not end the walk, and it is the history the PR comment's `perfci compare`
    walks. Else (no checkout, a shallow clone without the commit, a dashboard built
    away from the repository) the parents the store recorded, as far as they go."""
    chain = git_first_parent_chain(cwd, sha, ANCESTRY_LIMIT) if cwd is not None else []
    return chain or stored_first_parent_chain(store, sha, ANCESTRY_LIMIT)


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
            # an A/B run answered its own question; a pull request's is history only
            # where main's is not asked for
            aside = run.trigger == "ab" or (main_only and run.trigger in NOT_HISTORY)
            if run.sha != sha or run.id == head.id or run.id in exclude or later or aside:
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
    noise_runs = tuple(r.id for r in earlier) if len(runs) + 1 < MIN_RUNS else ()
    span = " to ".join(dict.fromkeys((places[0], places[-1])))
    reason = f"{count} of {span}"
    return Baseline(runs[0], reason, tuple(runs), (), tuple(conditions), noise_runs)


def compare_runs(
    store: Store,
    base_run_ids: Sequence[int],
    head_run_ids: Sequence[int],
    min_effect: float | None = None,
    config: Config | None = None,
    history_run_ids: Sequence[int] = (),
    nearest_base: int = 0,
    commit: str | None = None,
    base_commits: Sequence[str] | None = None,
) -> list[Comparison]:
    """`compare_metrics` between stored runs (`base_commits`: each base run's commit);
    `history_run_ids` (nearest first, as `Baseline.noise_runs`): earlier runs whose
    medians, before the base runs', tell the run-to-run noise when base and head runs
    are too few to; `nearest_base`: how many
    of the first base runs are of the base commit (`Baseline.nearest`); `config` and
    `commit`: the minimum effects and acknowledgements, as `compare_metrics`."""
    outcomes = [o for rid in head_run_ids for o in run_outcomes(store, rid)]
    kwargs = {} if min_effect is None else {"min_effect": min_effect}
    base = [run_metrics(store, rid) for rid in base_run_ids]
    history: dict[MetricKey, list[float]] = {}
    for run in [*[run_metrics(store, rid) for rid in reversed(history_run_ids)], *base[::-1]]:
        for row in run:
            key = metric_key(row.suite, row.name, row.params, row.metric)
            history.setdefault(key, []).append(row.median)
    return compare_metrics(
        base,
        [run_metrics(store, rid) for rid in head_run_ids],
        outcomes,
        config=config,
        history=history if history_run_ids else None,
        nearest_base=nearest_base,
        commit=commit,
        base_commits=base_commits,
        **kwargs,
    )


@dataclass(frozen=True)
class Verdicts:
    """A head compared with its baseline: the base runs chosen (or why none) and one
    comparison per benchmark and metric (none without a baseline)."""

    baseline: Baseline
    comparisons: tuple[Comparison, ...]
    head_sha: str | None  # the head's commit, whose acknowledgements applied


def compare_head(
    head: RunRow | ResultsFile,
    base: Store | Sequence[ResultsFile],
    config: Config,
    *,
    min_effect: float | None = None,
    start: str | None = None,
    main_only: bool = False,
    cwd: Path | None = None,
) -> Verdicts:
    """The verdicts of `head` against its baseline, with `config`'s minimum effects
    (`min_effect`, when given, stands for its default: the command line's
    `--min-effect`) and the acknowledgements of the head's commit.

    `base` is the store that holds the stored run `head`, or the results files of the
    base when `head` is a results file too (every file a base run, as given). From the
    store, the baseline is chosen (`choose_baseline`) along `ancestry(start)` (`cwd`: the
    checkout whose git knows the history, if any):

    - `start` None: `head` against the runs before it: earlier runs of its commit, then
      of its first-parent ancestors (the comparison `perfci run` prints);
    - `start` a commit (the merge-base of a pull request, or the head's own commit): the
      base runs along `start`'s first-parent history, whenever they ran; every run of
      the head's commit on its machine and environment is the head (`head_runs`), but
      when `start` is the head's commit, its newest run is compared with its others
      (`perfci compare`, the dashboard's pull-request page).

    `main_only`: pull requests' runs are never base runs (a store that holds them, as
    the published dashboard's does, finds its base in main's history, as the PR comment
    does in a copy of main's store)."""
    if min_effect is not None:
        config = dataclasses.replace(config, min_effect=min_effect)
    if isinstance(base, Store):
        if not isinstance(head, RunRow):
            raise TypeError("a stored baseline needs a stored head run")
        return _from_store(base, head, config, start, main_only, cwd)
    if not isinstance(head, ResultsFile):
        raise TypeError("base results files need a results file as the head")
    return _from_files(base, head, config)


def _from_store(
    store: Store,
    head: RunRow,
    config: Config,
    start: str | None,
    main_only: bool,
    cwd: Path | None,
) -> Verdicts:
    heads = [head] if start is None or start == head.sha else head_runs(store, head)
    baseline = choose_baseline(
        store,
        head,
        ancestry(store, start or head.sha, cwd),
        earlier_only=start is None,
        main_only=main_only,
        exclude=frozenset(r.id for r in heads),
    )
    if baseline.run is None:
        return Verdicts(baseline, (), head.sha)
    comparisons = compare_runs(
        store,
        [r.id for r in baseline.runs],
        [r.id for r in heads],
        config=config,
        history_run_ids=baseline.noise_runs,
        nearest_base=baseline.nearest,
        commit=head.sha,
        base_commits=[r.sha for r in baseline.runs],
    )
    return Verdicts(baseline, tuple(comparisons), head.sha)


def _from_files(bases: Sequence[ResultsFile], head: ResultsFile, config: Config) -> Verdicts:
    """Every base file against the head file: the files are the baseline, their
    environment and run-condition differences from the head stated."""
    commit = head.sha or None
    if not bases:
        return Verdicts(Baseline(None, "no base results file"), (), commit)
    diffs: list[str] = []
    for b in bases:
        for d in environment_differences(b.result.environment, head.result.environment):
            if d not in diffs:
                diffs.append(d)
    cores = head.result.machine.get("cpu_cores")
    conditions = condition_differences(
        [b.conditions for b in bases], head.conditions, cores if isinstance(cores, int) else None
    )
    reason = ", ".join(b.path for b in bases)
    baseline = Baseline(bases[0], reason, tuple(bases), tuple(diffs), tuple(conditions))
    comparisons = compare_metrics(
        [b.metrics() for b in bases],
        [head.metrics()],
        head.outcomes(),
        config=config,
        commit=commit,
        base_commits=[b.sha for b in bases],
    )
    return Verdicts(baseline, tuple(comparisons), commit)


def main_trends(store: Store, verdicts: Verdicts, cwd: Path | None = None) -> Trends:
    """Main's recent history per metric up to the base commit, one value a commit along
    its first-parent chain, on the base's machine and environment (the small trend beside
    each change in the PR comment); none for a baseline of results files."""
    run = verdicts.baseline.run
    if not isinstance(run, RunRow):
        return {}
    chain = ancestry(store, run.sha, cwd)
    return recent_medians(store, chain, run.machine_fingerprint, run.environment_fingerprint)
