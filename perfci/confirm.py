"""Confirming suspected changes on a branch by measuring again.

History mode waits for more commits before it calls a change; perfci can measure again
instead. After a push, a series whose newest runs look changed but not yet significantly
(`perfci.stats.suspect`: the detector's scan against a weaker bar) names a suspected
change point, and with it two commits: the last commit before the suspected change and
the newest commit. Both are measured again in this job, interleaved (the worktrees and
the round order of `perfci.ab`, ABBA BAAB …), for a fixed number of rounds, and the runs
are stored as runs of those commits (trigger `confirm`, part of the branch's history).
The normal detector then runs on the enlarged history: it raises the alert, or the
suspicion is dropped. Nothing here judges the rounds on its own; the evidence is the
detector's. A suspected change is measured again once: when the commit before it already
has confirmation runs of the series, it is left to the detector (`pair_to_measure`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perfci.ab.session import Plan, run_ab
from perfci.ab.worktree import rerun_selection, sides
from perfci.alerts import RECHECK, AlertRow, branch_head, check_history
from perfci.config import Config
from perfci.environment import current_environment, current_machine
from perfci.results import NOT_HISTORY, RunResult
from perfci.stats.segments import MIN_EFFECT, Direction, cuts_of
from perfci.stats.suspect import SUSPECT_MARGIN, Suspect, suspect
from perfci.store import Store
from perfci.store.alert_rows import (
    BenchmarkName,
    benchmark_names,
    machine_names,
    metric_directions,
    series_points,
)
from perfci.store.ingest import ingest_runs
from perfci.store.queries import first_parent_chain, run_metrics, runs_of_commit

TRIGGER = "confirm"  # history: not in perfci.results.NOT_HISTORY
ROUNDS = 5  # rounds of a confirmation: the evaluation's choice (QUALITY.md)


@dataclass(frozen=True)
class Pair:
    """What the rule names for one series: the suspected change, the commit before it
    and the newest commit, to be measured again."""

    suspect: Suspect
    last_good: str
    newest: str


def pair_to_measure(
    values: Sequence[float],
    commits: Sequence[str],
    start: int,
    direction: Direction,
    min_effect: float = MIN_EFFECT,
    confirmed: Container[str] = (),
    margin: float = SUSPECT_MARGIN,
) -> Pair | None:
    """The suspicion rule on one series (one value per run, oldest first, each run's
    commit; its open segment begins at `start`): the `Pair` to measure again, or None.
    `confirmed`: the commits with confirmation runs of this series already; a suspected
    change after one of them was measured again once and is not again."""
    cuts = cuts_of(commits, len(values))
    found = suspect(
        np.asarray(values, dtype=np.float64), start, direction, min_effect, cuts, margin
    )
    if found is None or commits[found.index - 1] in confirmed:
        return None
    return Pair(found, commits[found.index - 1], commits[-1])


@dataclass(frozen=True)
class Suspicion:
    """A suspected change on one stored series (benchmark, metric, machine)."""

    benchmark: str  # suite::name[params]
    suite: str
    name: str
    metric: str
    machine: str
    fingerprint: str
    pair: Pair
    commit: str  # the first commit of the suspected change
    environment: frozenset[str]  # the environment fingerprints of the newest commit's runs


@dataclass(frozen=True)
class Verdict:
    """What became of a suspicion: `confirmed` (the detector raised `alert`), `dropped`
    (it did not, on all the evidence) or `skipped` (not measured: `reason`)."""

    suspicion: Suspicion
    outcome: str
    reason: str | None = None
    alert: AlertRow | None = None


@dataclass(frozen=True)
class Measured:
    """One pair of commits measured again: the runs, the order, how long it took."""

    last_good: str
    newest: str
    runs: tuple[RunResult, ...]
    order: str
    seconds: float


@dataclass(frozen=True)
class Confirmation:
    verdicts: list[Verdict]
    measured: list[Measured]


class _Confirmed:
    """The commits with confirmation runs of one series, looked up in the store when asked."""

    def __init__(self, store: Store, bench: BenchmarkName, metric: str, fingerprint: str) -> None:
        self.store, self.bench, self.metric, self.fingerprint = store, bench, metric, fingerprint

    def __contains__(self, sha: object) -> bool:
        runs = runs_of_commit(self.store, str(sha))
        return any(
            run.trigger == TRIGGER
            and run.machine_fingerprint == self.fingerprint
            and any(self._same(m.suite, m.name, m.metric) for m in run_metrics(self.store, run.id))
            for run in runs
            if run.sha == sha
        )

    def _same(self, suite: str, name: str, metric: str) -> bool:
        return (suite, name, metric) == (self.bench.suite, self.bench.name, self.metric)


def _label(b: BenchmarkName) -> str:
    """suite::name[params], as `perfci.alerts` shows a benchmark."""
    return f"{b.suite}::{b.name}" + (f"[{b.params}]" if b.params not in ("{}", "") else "")


def find_suspicions(store: Store, branch: str, config: Config) -> list[Suspicion]:
    """Every series of `branch` whose open segment has a suspected change, strongest
    (nearest its alert threshold) first, after the detector has stored what it finds."""
    states = {
        (s.benchmark, s.metric, s.machine): s
        for s in check_history(store, branch, config=config).series
    }
    chain = first_parent_chain(store, branch_head(store, branch), limit=5000)
    names, machines = benchmark_names(store), machine_names(store)
    directions = metric_directions(store)
    found = []
    for (bench_id, metric, fp), points in series_points(store, chain).items():
        bench, machine = names[bench_id], machines[points[-1].machine_id]
        state = states.get((_label(bench), metric, machine))
        if state is None or state.too_short:
            continue
        direction: Direction = (
            "higher" if directions.get((bench_id, metric)) == "higher" else "lower"
        )
        effect = config.min_effect_for(f"{bench.suite}::{bench.name}", MIN_EFFECT)
        commits = [p.sha for p in points]
        pair = pair_to_measure(
            [p.value for p in points],
            commits,
            state.runs - state.segment_runs,
            direction,
            effect,
            _Confirmed(store, bench, metric, fp),
        )
        if pair is None:
            continue
        envs = frozenset(
            r.environment_fingerprint
            for r in runs_of_commit(store, pair.newest)
            if r.sha == pair.newest and r.machine_fingerprint == fp and r.trigger not in NOT_HISTORY
        )
        found.append(
            Suspicion(
                _label(bench), bench.suite, bench.name, metric, machine, fp, pair,
                commits[pair.suspect.index], envs,
            )
        )  # fmt: skip
    return sorted(found, key=lambda s: s.pair.suspect.threshold - abs(s.pair.suspect.statistic))


def measurable_here(suspicions: Sequence[Suspicion]) -> dict[Suspicion, str]:
    """The suspicions this machine cannot measure again, with why: another hardware
    fingerprint, or another environment than the newest commit's runs."""
    machine, environment = current_machine().fingerprint, current_environment().fingerprint
    out = {}
    for s in suspicions:
        if s.fingerprint != machine:
            out[s] = f"measured on other hardware ({s.machine})"
        elif environment not in s.environment:
            out[s] = "this machine's environment differs from the newest commit's runs"
    return out


def measure_pairs(
    repo: Path,
    suspicions: Sequence[Suspicion],
    plan: Plan,
    config: Config,
    out: Path,
    progress: Callable[[str], None],
) -> tuple[list[Measured], dict[Suspicion, str]]:
    """Each pair of commits that `suspicions` name measured again for `plan.min_rounds`
    rounds (the benchmarks suspected on it, by node id), strongest suspicion first; a pair
    is started only while `plan.budget_s` holds its rounds at the pace of the pairs before
    (the first always is). Returns the pairs measured and the suspicions left out, with
    why. SideError or ABError when a side cannot be set up or run."""
    pairs: dict[tuple[str, str], list[Suspicion]] = {}
    for s in suspicions:
        pairs.setdefault((s.pair.last_good, s.pair.newest), []).append(s)
    started, per_round = time.monotonic(), 0.0
    measured: list[Measured] = []
    left_out: dict[Suspicion, str] = {}
    for (last_good, newest), on_pair in pairs.items():
        left = plan.budget_s - (time.monotonic() - started)
        if measured and per_round * plan.min_rounds > left:
            left_out.update({s: "out of the time budget" for s in on_pair})
            continue
        selection = dict.fromkeys(rerun_selection(s.suite, s.name) for s in on_pair)
        progress(f"{last_good[:12]} and {newest[:12]}: {len(on_pair)} suspected series")
        begun = time.monotonic()
        with sides(repo, last_good, newest, config.ab_setup) as (before, after):
            where = out / f"{last_good[:12]}-{newest[:12]}"
            where.mkdir(parents=True, exist_ok=True)
            pair_plan = dataclasses.replace(plan, targets=(*plan.targets, *selection))
            outcome = run_ab(before, after, pair_plan, config, where.resolve(), progress)
        seconds = time.monotonic() - begun
        per_round = seconds / max(len(outcome.rounds), 1)
        runs = tuple(_as_confirmation(f.result) for pair in outcome.rounds for f in pair)
        measured.append(Measured(last_good, newest, runs, outcome.order, seconds))
    return measured, left_out


def _as_confirmation(result: RunResult) -> RunResult:
    """An A/B round's run as a confirmation run of its commit: part of the history."""
    return dataclasses.replace(result, run=dataclasses.replace(result.run, trigger=TRIGGER))


def decide(
    store: Store,
    branch: str,
    config: Config,
    suspicions: Sequence[Suspicion],
    measured: Sequence[Measured],
    left_out: dict[Suspicion, str],
) -> list[Verdict]:
    """Stores the confirmation runs (one transaction) and runs the detector on the
    enlarged history: each measured suspicion is `confirmed` when the detector now raises
    a new alert on its series, else `dropped`."""
    ingest_runs(store, [run for m in measured for run in m.runs])
    alerts = check_history(store, branch, recheck=RECHECK, config=config).alerts
    new = {
        (a.benchmark, a.metric, a.machine): a
        for a in alerts
        if a.new and a.kind in ("regression", "improvement")
    }
    verdicts = []
    for s in suspicions:
        if s in left_out:
            verdicts.append(Verdict(s, "skipped", left_out[s]))
            continue
        alert = new.get((s.benchmark, s.metric, s.machine))
        verdicts.append(Verdict(s, "dropped" if alert is None else "confirmed", alert=alert))
    return verdicts
