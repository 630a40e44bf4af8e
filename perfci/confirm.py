"""Confirming suspected changes on a branch by measuring again.

History mode waits for more commits before it calls a change; perfci can measure again
instead. After a push, a series whose newest runs look changed but not yet significantly
(`perfci.stats.suspect`: the detector's scan against a weaker bar) names a suspected
change point, and with it two commits: the last commit before the suspected change and
the newest commit. Both are measured again in this job, interleaved (the worktrees and
the round order of `perfci.ab`, ABBA BAAB …), for a fixed number of rounds.

The decision (`judge_pair`, then the detector): the suspicion is a screen, the rounds
are the test. Each round's two runs share the machine's state, so their log ratio
cancels what both share, which the history's values measured long before cannot; the
one-sided paired t-test of `perfci.stats.confirmation` asks whether the rounds support
the change in its suspected direction. Only then do the runs join that series' history
(trigger `confirm`) and the normal detector run on all the evidence: it raises the
alert, or the suspicion is dropped. Rounds that do not support it are stored as the
same-job A/B they are (trigger `ab`, never history), and the suspicion is dropped: the
detector never sees them, so a confirmation of an unchanged pair adds a false alert
with probability at most the test's level, however the suspicion was chosen.

A suspected change is measured again once: when the commit before it and a later commit
of the series already have runs of the series measured again side by side (a
confirmation's, stored as history or as A/B runs), it is left to the detector
(`pair_to_measure`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perfci.ab.session import Plan, run_ab
from perfci.ab.worktree import rerun_selection, sides
from perfci.alerts import RECHECK, AlertRow, branch_head, check_history
from perfci.config import Config
from perfci.confirm_runs import MEASURED_AGAIN, SeriesName, as_stored, figure
from perfci.confirm_runs import TRIGGER as TRIGGER  # the history runs' trigger
from perfci.environment import current_environment, current_machine
from perfci.results import NOT_HISTORY, RunResult, canonical_params
from perfci.stats.confirmation import LEVEL, PairedEvidence, paired_test
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
from perfci.store.queries import MetricRow, first_parent_chain, run_metrics, runs_of_commit

ROUNDS = 8  # rounds of a confirmation: the evaluation's choice (QUALITY.md)


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
    `confirmed`: the commits whose suspected change after them was measured again
    already (with a later commit); it is not again."""
    cuts = cuts_of(commits, len(values))
    found = suspect(
        np.asarray(values, dtype=np.float64), start, direction, min_effect, cuts, margin
    )
    if found is None or commits[found.index - 1] in confirmed:
        return None
    return Pair(found, commits[found.index - 1], commits[-1])


def judge_pair(
    pair: Pair, rounds: Sequence[tuple[float, float]], level: float = LEVEL
) -> PairedEvidence:
    """The confirmation's test of `pair`'s suspected change: each round's figures (the
    commit before's run, the newest commit's run), in the order measured, through the
    one-sided paired t-test of `perfci.stats.confirmation` in the suspected direction. A
    round with a figure that is not positive has no log ratio and is left out."""
    logs = [math.log(after / before) for before, after in rounds if before > 0 and after > 0]
    return paired_test(logs, pair.suspect.statistic > 0, level)


def describe(evidence: PairedEvidence) -> str:
    """The rounds' change and interval in words: '+5.1% [+3.2, +7.0] over 8 paired rounds'."""
    n = evidence.rounds
    rounds = f"over {n} paired round{'s' if n != 1 else ''}"
    if n == 0:
        return "no paired round"
    change = f"{evidence.ratio - 1:+.1%}"
    if evidence.low <= 0 or math.isinf(evidence.high):
        return f"{change} {rounds} (no interval)"
    return f"{change} [{(evidence.low - 1) * 100:+.1f}, {(evidence.high - 1) * 100:+.1f}] {rounds}"


@dataclass(frozen=True)
class Suspicion:
    """A suspected change on one stored series (benchmark, metric, machine)."""

    benchmark: str  # suite::name[params]
    suite: str
    name: str
    params: str  # canonical JSON
    metric: str
    machine: str
    fingerprint: str
    pair: Pair
    commit: str  # the first commit of the suspected change
    environment: frozenset[str]  # the environment fingerprints of the newest commit's runs

    @property
    def series(self) -> SeriesName:
        return (self.suite, self.name, self.params, self.metric)


@dataclass(frozen=True)
class Verdict:
    """What became of a suspicion: `confirmed` (the paired rounds support it and the
    detector raised `alert`), `dropped` (either did not: `reason`) or `skipped` (not
    measured: `reason`); `evidence`: the paired rounds' test, when measured."""

    suspicion: Suspicion
    outcome: str
    reason: str | None = None
    alert: AlertRow | None = None
    evidence: PairedEvidence | None = None


@dataclass(frozen=True)
class Measured:
    """One pair of commits measured again: each round's runs (the commit before's, the
    newest's), the order, how long it took."""

    last_good: str
    newest: str
    rounds: tuple[tuple[RunResult, RunResult], ...]
    order: str
    seconds: float

    @property
    def runs(self) -> tuple[RunResult, ...]:
        return tuple(run for pair in self.rounds for run in pair)


@dataclass(frozen=True)
class Confirmation:
    verdicts: list[Verdict]
    measured: list[Measured]


class _Confirmed:
    """The commits of one series measured again side by side with a later commit of it
    (runs of the series on its machine, trigger `confirm` or `ab`, at both), looked up in
    the store when asked. An A/B of a pull request's base measures no later commit of the
    branch, so it does not count."""

    def __init__(
        self, store: Store, bench: BenchmarkName, metric: str, fingerprint: str,
        commits: Sequence[str],
    ) -> None:  # fmt: skip
        self.store, self.bench, self.metric, self.fingerprint = store, bench, metric, fingerprint
        self.commits = list(dict.fromkeys(commits))  # in order, each once

    def __contains__(self, sha: object) -> bool:
        if sha not in self.commits or not self._measured_again(str(sha)):
            return False
        later = self.commits[self.commits.index(sha) + 1 :]
        return any(self._measured_again(c) for c in later)

    def _measured_again(self, sha: str) -> bool:
        return any(
            run.trigger in MEASURED_AGAIN
            and run.machine_fingerprint == self.fingerprint
            and any(self._same(m) for m in run_metrics(self.store, run.id))
            for run in runs_of_commit(self.store, sha)
            if run.sha == sha
        )

    def _same(self, m: MetricRow) -> bool:
        b = self.bench
        return (m.suite, m.name, canonical_params(m.params), m.metric) == (
            b.suite, b.name, b.params, self.metric,
        )  # fmt: skip


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
            _Confirmed(store, bench, metric, fp, commits),
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
                _label(bench), bench.suite, bench.name, bench.params, metric, machine, fp, pair,
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
        rounds = tuple((base.result, head.result) for base, head in outcome.rounds)
        measured.append(Measured(last_good, newest, rounds, outcome.order, seconds))
        per_round = seconds / max(len(rounds), 1)
    return measured, left_out


def _evidence(s: Suspicion, m: Measured) -> PairedEvidence:
    """`judge_pair` on the rounds that measured the suspicion's series on both commits."""
    figures = [
        (a, b)
        for before, after in m.rounds
        if (a := figure(before, s.series)) is not None
        and (b := figure(after, s.series)) is not None
    ]
    return judge_pair(s.pair, figures)


def _unsupported(s: Suspicion, e: PairedEvidence) -> str:
    if e.rounds == 0:
        return "no round measured it on both commits"
    return f"{describe(e)}: the paired rounds do not support a {s.pair.suspect.kind}"


def decide(
    store: Store,
    branch: str,
    config: Config,
    suspicions: Sequence[Suspicion],
    measured: Sequence[Measured],
    left_out: dict[Suspicion, str],
) -> list[Verdict]:
    """Tests each measured suspicion on its pair's rounds (`judge_pair`), stores the
    rounds' runs (one transaction: the series they support as history, all else as A/B
    runs) and runs the detector on the enlarged history. A suspicion is `confirmed` when
    its rounds support it and the detector now raises a new alert on its series, else
    `dropped`."""
    by_pair = {(m.last_good, m.newest): m for m in measured}
    evidence: dict[Suspicion, PairedEvidence] = {}
    history: dict[tuple[str, str], set[SeriesName]] = {pair: set() for pair in by_pair}
    for s in suspicions:
        pair = (s.pair.last_good, s.pair.newest)
        if s in left_out or pair not in by_pair:
            continue
        evidence[s] = _evidence(s, by_pair[pair])
        if evidence[s].supports:
            history[pair].add(s.series)
    stored = [
        part
        for m in measured
        for run in m.runs
        for part in as_stored(run, history[(m.last_good, m.newest)])
    ]
    ingest_runs(store, stored)
    alerts = check_history(store, branch, recheck=RECHECK, config=config).alerts
    new = {
        (a.benchmark, a.metric, a.machine): a
        for a in alerts
        if a.new and a.kind in ("regression", "improvement")
    }
    verdicts = []
    for s in suspicions:
        e = evidence.get(s)
        if e is None:
            verdicts.append(Verdict(s, "skipped", left_out.get(s, "not measured")))
        elif not e.supports:
            verdicts.append(Verdict(s, "dropped", _unsupported(s, e), evidence=e))
        elif (alert := new.get((s.benchmark, s.metric, s.machine))) is None:
            why = f"{describe(e)}, but the detector raises no alert on all the evidence"
            verdicts.append(Verdict(s, "dropped", why, evidence=e))
        else:
            verdicts.append(Verdict(s, "confirmed", alert=alert, evidence=e))
    return verdicts
