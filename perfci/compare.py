"""Baseline selection and per-metric verdicts between base runs and head runs.

Each benchmark × metric gets the ratio head/base of run medians with an interval that
includes run-to-run noise (perfci.stats.runs), judged against a minimum practical effect
in the metric's direction; a metric whose run-to-run noise the runs cannot tell gets no
change verdict (`inconclusive`, saying what it needs). False alarms are controlled over
all metrics compared with the Benjamini-Hochberg procedure at 5%: when nothing changed,
the chance of any false flag in a comparison is at most 5%. Intervals are the matching
false-coverage-rate intervals (Benjamini-Yekutieli): level 1 - 0.05·R/m for R flagged of
m compared.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfci.config import Config
from perfci.environment import Conditions
from perfci.results import RunResult, canonical_params
from perfci.stats.commits import CommitEffect, commit_effect, shared_effects
from perfci.stats.runs import (
    DEFAULT_RUN_NOISE,
    MIN_DF,
    RunsEstimate,
    benjamini_hochberg,
    compare_runs_samples,
    judge,
    level_shift,
)
from perfci.stats.runs import Verdict as Judged
from perfci.store.queries import MetricRow, OutcomeRow, RunRow
from perfci.verdicts import CHANGES, MetricKey, Verdict, benchmark_label, direction_of, metric_key

VerdictName = Verdict  # the name this module has always exported
DEFAULT_MIN_EFFECT = 0.03
MIN_RUNS = MIN_DF + 2  # base and head runs in all for the runs to tell their own noise
FAMILY_CONFIDENCE = 0.95
MAX_BASE_RUNS = 10
# The process's resident high-water mark includes whatever earlier benchmarks left
# resident (it moved from 257 to 425 MiB in unchanged code when the order of work did),
# so it cannot be attributed to one benchmark: shown, never a change verdict.
PROCESS_WIDE = frozenset({"process_peak_memory", "process_lifetime_peak_memory"})
MIN_EXACT_RUNS = 3  # runs in all before a figure that never varied counts as deterministic
OWN_BASE_RUNS = 3  # runs of the base commit that can stand alone as its base


@dataclass(frozen=True)
class Comparison:
    """One benchmark and metric: the fields of `compare --format json` (ARCHITECTURE.md §3)."""

    benchmark: str
    params: dict[str, Any]
    metric: str
    unit: str
    direction: str
    verdict: VerdictName
    ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    n_base: int
    n_head: int
    note: str | None = None
    acknowledged: str | None = None  # the reason, when the change is an expected one
    # where the run-to-run noise came from: runs, history, assumed; `exact` for a
    # deterministic figure (every run gave the same value), compared without noise
    noise: str | None = None
    gates: bool = True  # False for a figure that cannot be attributed to the benchmark
    # the smallest change these runs would find 80% of the time; None where no noise
    # model judged the figure (exact, unpaired, assumed noise)
    detectable: float | None = None

    @property
    def unmeasured(self) -> bool:
        """No verdict because nothing measured the run-to-run noise (too few runs)."""
        return self.verdict == "inconclusive" and self.noise == "assumed"


@dataclass(frozen=True)
class ResultsFile:
    """One run read from a results file (perfci or pytest-benchmark JSON) rather than
    from the store: a side of `perfci compare BASE.json... HEAD.json`."""

    path: str
    result: RunResult
    id: int = 0  # no stored run: 0 in `compare --format json`'s baseline runs

    @property
    def sha(self) -> str:
        return self.result.commit.sha if self.result.commit else ""

    @property
    def machine(self) -> str:
        """The machine's name, as the store names a run's machine."""
        return str(self.result.machine.get("name") or "")

    @property
    def conditions(self) -> Conditions:
        run = self.result.run
        return Conditions(run.thermal_state, run.low_power_mode, run.load_average)

    def metrics(self) -> list[MetricRow]:
        """Each benchmark's metrics, summarised as the store keeps them."""
        rows = []
        for b in self.result.benchmarks:
            for m in b.metrics:
                s = m.summarized()
                rows.append(
                    MetricRow(
                        b.suite,
                        b.name,
                        b.params,
                        m.name,
                        m.unit,
                        m.direction,
                        s.n,
                        s.median,
                        s.q1,
                        s.q3,
                        m.samples,
                    )
                )
        return rows

    def outcomes(self) -> list[OutcomeRow]:
        return [
            OutcomeRow(o.suite, o.name, o.params, o.status, o.reason) for o in self.result.outcomes
        ]


BaseRun = RunRow | ResultsFile


@dataclass(frozen=True)
class Baseline:
    """The base runs chosen (newest first; `run` is the nearest) and how, or why none."""

    run: BaseRun | None
    reason: str
    runs: tuple[BaseRun, ...] = field(default=())
    differences: tuple[str, ...] = field(default=())  # environment differences, if any
    conditions: tuple[str, ...] = field(default=())  # how the runs ran differed, if so
    noise_runs: tuple[int, ...] = field(default=())  # earlier runs to learn the noise from

    @property
    def nearest(self) -> int:
        """How many of the base runs are of the nearest commit's (the first run's)."""
        return sum(r.sha == self.runs[0].sha for r in self.runs) if self.runs else 0


LOAD_GAP = 0.5  # 1-minute load per core: a gap this large means one run shared the machine


def condition_differences(
    base: Sequence[Conditions], head: Conditions, cores: int | None
) -> list[str]:
    """What differed in how the runs ran, beyond hardware and software: the load on the
    machine (per core, when base and head differ by `LOAD_GAP` or more), the thermal
    state and low-power mode. Timings under such differences move for reasons other than
    the code, so a report states them beside its verdicts."""
    diffs = []
    loads = [c.load_average for c in base if c.load_average is not None]
    if cores and loads and head.load_average is not None:
        low, high, now = min(loads) / cores, max(loads) / cores, head.load_average / cores
        if now - high >= LOAD_GAP or low - now >= LOAD_GAP:
            span = f"{low:.2f}" if high - low < 0.005 else f"{low:.2f}-{high:.2f}"
            diffs.append(f"1-minute load per core {span} in base, {now:.2f} in head")
    thermal = sorted({c.thermal_state for c in base if c.thermal_state})
    if thermal and head.thermal_state and head.thermal_state not in thermal:
        diffs.append(f"thermal state {'/'.join(thermal)} in base, {head.thermal_state} in head")
    low_power = {c.low_power_mode for c in base if c.low_power_mode is not None}
    if len(low_power) == 1 and head.low_power_mode is not None:
        (before,) = low_power
        if before != head.low_power_mode:
            on_off = {True: "on", False: "off"}
            diffs.append(
                f"low-power mode {on_off[before]} in base, {on_off[head.low_power_mode]} in head"
            )
    return diffs


def environment_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Readable differences between two environments, e.g. 'torch 2.12.0 → 2.13.0'."""
    diffs = []
    for key in sorted((set(a) | set(b)) - {"fingerprint", "packages"}):
        if a.get(key) != b.get(key):
            diffs.append(f"{key} {a.get(key)} → {b.get(key)}")
    pa, pb = a.get("packages") or {}, b.get("packages") or {}
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            diffs.append(f"{name} {pa.get(name) or 'absent'} → {pb.get(name) or 'absent'}")
    return diffs


def _label(row: MetricRow | OutcomeRow) -> str:
    return benchmark_label(row.suite, row.name)


def _key(row: MetricRow) -> MetricKey:
    return metric_key(row.suite, row.name, row.params, row.metric)


def acknowledge(
    comparisons: Sequence[Comparison], config: Config, commit: str | None = None
) -> list[Comparison]:
    """`comparisons` with each regression or improvement that `config` acknowledges for
    the head's `commit` marked as such (its reason in `acknowledged` and the note); an
    acknowledged regression does not fail a check."""
    out = []
    for c in comparisons:
        reason = (
            config.acknowledged(c.benchmark, c.metric, commit) if c.verdict in CHANGES else None
        )
        if reason is not None:
            note = f"acknowledged: {reason}" + (f"; {c.note}" if c.note else "")
            c = dataclasses.replace(c, acknowledged=reason, note=note)
        out.append(c)
    return out


def never_judged(verdict: Judged, note: str) -> tuple[Judged, str]:
    """A process-wide figure's verdict and note: no change is ever called on it."""
    shown: Judged = "unchanged" if verdict == "unchanged" else "inconclusive"
    reason = "the process's peak, with what earlier work left resident: shown, never judged"
    return shown, f"{reason}; {note}"


def fails(comparisons: Sequence[Comparison]) -> bool:
    """Whether a comparison holds a regression that nobody acknowledged."""
    return any(
        c.verdict == "regression" and c.acknowledged is None and c.gates for c in comparisons
    )


def _constant(runs: Sequence[Sequence[float]]) -> float | None:
    """The one value every sample of every run has, else None."""
    first = runs[0][0]
    return first if all(x == first for run in runs for x in run) else None


def exact(
    row: MetricRow,
    base: Sequence[Sequence[float]],
    head: Sequence[Sequence[float]],
    n_base: int,
    n_head: int,
) -> Comparison | None:
    """A deterministic figure (a package's size, a parameter count, a memory figure the
    same in every run) compared exactly: any difference is a change, with no noise model
    to hide it or invent one. None when the runs are too few to call it deterministic
    or a side varied."""
    if len(base) + len(head) < MIN_EXACT_RUNS:
        return None
    before, after = _constant(base), _constant(head)
    if before is None or after is None:
        return None
    ratio = after / before
    verdict: VerdictName = "unchanged"
    if ratio != 1:
        worse = (ratio > 1) == (row.direction == "lower")
        verdict = "regression" if worse else "improvement"
    note = f"the same in each of {len(base)} base and {len(head)} head run(s): compared exactly"
    return Comparison(
        _label(row), row.params, row.metric, row.unit, row.direction, verdict,
        ratio, (ratio, ratio), None, n_base, n_head, note, noise="exact",
    )  # fmt: skip


def row_samples(row: MetricRow) -> tuple[float, ...]:
    """A row's raw samples, or its median alone where the source kept none."""
    return row.samples or (row.median,)


def unpaired(
    row: MetricRow, verdict: VerdictName, n_base: int, n_head: int, note: str
) -> Comparison:
    """A verdict without figures: `new`, `missing` or `error`, with its reason."""
    return Comparison(
        _label(row), row.params, row.metric, row.unit, row.direction, verdict,
        None, None, None, n_base, n_head, note,
    )  # fmt: skip


def compare_metrics(
    base_runs: Sequence[Sequence[MetricRow]],
    head_runs: Sequence[Sequence[MetricRow]],
    head_outcomes: Sequence[OutcomeRow] = (),
    min_effect: float = DEFAULT_MIN_EFFECT,
    config: Config | None = None,
    assumed_noise: float = DEFAULT_RUN_NOISE,
    history: Mapping[MetricKey, Sequence[float]] | None = None,
    nearest_base: int = 0,
    commit: str | None = None,
    base_commits: Sequence[str] | None = None,
) -> list[Comparison]:
    """Verdicts for every metric in either side. `base_runs`/`head_runs`: each run's
    metrics (several base runs: main's recent history, nearest first). `nearest_base`:
    how many of the first base runs are of the base commit itself; a metric whose level
    there differs from the older runs' (`level_shift`: a change among the base commits)
    is compared with the base commit's runs alone, when it has at least
    `OWN_BASE_RUNS`. `config` (perfci.toml): each benchmark's minimum effect
    (`Config.min_effect_for`, with `min_effect` where the configuration sets none) and
    the acknowledged changes of the head's `commit` (`acknowledge`).
    `history`: per metric key (`perfci.verdicts.metric_key`), earlier run medians
    (oldest first) that tell the run-to-run noise when the runs compared are too few
    to. `base_commits`: each base run's commit (the head's runs are one commit): where
    commits of several runs show that a commit's runs move together, that movement
    joins the noise (`perfci.stats.commits`). A benchmark that failed in head is
    `error`; one with no positive samples is `error` too, never a pass."""
    config = config or Config()
    base_by: dict[MetricKey, list[MetricRow]] = {}
    commits_by: dict[MetricKey, list[str]] = {}
    near_by: dict[MetricKey, int] = {}
    for i, run in enumerate(base_runs):
        for row in run:
            base_by.setdefault(_key(row), []).append(row)
            commits_by.setdefault(_key(row), []).append(base_commits[i] if base_commits else "")
            near_by[_key(row)] = near_by.get(_key(row), 0) + (i < nearest_base)
    # the recent commits a commit effect is learned from, before any is passed over
    window = {k: (list(rows), list(commits_by[k])) for k, rows in base_by.items()}
    for key, rows in base_by.items():
        near = near_by[key]
        if near >= OWN_BASE_RUNS and level_shift(
            [row_samples(r) for r in rows[:near]], [row_samples(r) for r in rows[near:]]
        ):
            base_by[key] = rows[:near]
            commits_by[key] = commits_by[key][:near]
    head_by: dict[MetricKey, list[MetricRow]] = {}
    for run in head_runs:
        for row in run:
            head_by.setdefault(_key(row), []).append(row)
    failed = {
        (o.suite, o.name, canonical_params(o.params)) for o in head_outcomes if o.status == "error"
    }
    paired = [k for k in head_by if k in base_by]
    alpha = 1 - FAMILY_CONFIDENCE
    samples = {
        k: ([row_samples(r) for r in base_by[k]], [row_samples(r) for r in head_by[k]])
        for k in paired
    }
    valid = [k for k in paired if min(min(s) for s in (*samples[k][0], *samples[k][1])) > 0]
    exacts = {k: c for k in valid if (c := exact(head_by[k][0], *samples[k], 0, 0)) is not None}
    history = history or {}

    effects = _shared_effects(
        {k: _commit_effect(*window[k], head_by[k]) for k in valid} if base_commits else {},
        head_by,
    )

    def estimate(key: MetricKey, confidence: float) -> RunsEstimate:
        base, head = samples[key]
        past = [v for v in history.get(key, ()) if v > 0]
        effect = effects.get(key)
        commits = commits_by[key][: len(base)]
        return compare_runs_samples(base, head, confidence, past, assumed_noise, effect, commits)

    judged = [k for k in valid if k not in exacts and k[3] not in PROCESS_WIDE]
    first = {k: estimate(k, FAMILY_CONFIDENCE) for k in judged}
    tested = [first[k].p_value for k in judged if first[k].noise_known]  # only these can flag
    flagged = benjamini_hochberg(tested, alpha) if tested else 0
    level = 1 - alpha * max(flagged, 1) / max(len(tested), 1)
    out: list[Comparison] = []
    for key, rows in head_by.items():
        row = rows[0]
        n_head = sum(r.n for r in rows)
        if key not in base_by:
            out.append(unpaired(row, "new", 0, n_head, "no base measurement"))
            continue
        before = base_by[key]
        n_base = sum(r.n for r in before)
        base_s, head_s = samples[key]
        if key not in valid:
            out.append(unpaired(row, "error", n_base, n_head, "non-positive values"))
            continue
        if key in exacts:
            found = dataclasses.replace(exacts[key], n_base=n_base, n_head=n_head)
            out.append(exact_within_minimum(found, config))
            continue
        effect = config.min_effect_for(_label(row), min_effect)
        est = estimate(key, level)
        verdict = judge(est, direction_of(row.direction), effect)
        shared = f"; of it {est.between:.1%} moves a commit's runs together" if est.between else ""
        note = f"noise {est.noise:.1%} ({est.noise_source}{shared})"
        gates = row.metric not in PROCESS_WIDE
        if not gates:
            verdict, note = never_judged(verdict, note)
        elif not est.noise_known:
            note = (
                f"run-to-run noise unknown with {len(base_s)} base and {len(head_s)} head "
                f"run(s): a verdict needs {MIN_RUNS} in all; " + note
            )
        elif verdict == "inconclusive":
            note = f"too noisy for ±{effect:.0%}: detectable ±{est.detectable:.1%}; " + note
        elif verdict == "unchanged" and not est.low <= 1 <= est.high:
            note = f"changed by less than the {effect:.0%} minimum; " + note
        out.append(
            Comparison(
                _label(row),
                row.params,
                row.metric,
                row.unit,
                row.direction,
                verdict,
                est.ratio,
                (est.low, est.high),
                est.p_value,
                n_base,
                n_head,
                note,
                noise=est.noise_source,
                gates=gates,
                detectable=est.detectable if est.noise_known else None,
            )
        )
    for key, rows in base_by.items():
        if key not in head_by:
            row = rows[0]
            gone: VerdictName = "error" if key[:3] in failed else "missing"
            reason = "failed in head" if gone == "error" else "not measured in head"
            out.append(unpaired(row, gone, sum(r.n for r in rows), 0, reason))
    return acknowledge(out, config, commit)


def _commit_effect(
    window: Sequence[MetricRow], commits: Sequence[str], head: Sequence[MetricRow]
) -> CommitEffect | None:
    """The commit effect of one metric: the base window's runs grouped by their
    `commits`, the head's runs adding to the noise within a commit."""
    grouped: dict[str, list[float]] = {}
    for row, sha in zip(window, commits, strict=True):
        grouped.setdefault(sha, []).append(_log_median(row))
    return commit_effect(list(grouped.values()), [[_log_median(r) for r in head]])


def _shared_effects(
    effects: Mapping[MetricKey, CommitEffect | None], head_by: Mapping[MetricKey, list[MetricRow]]
) -> dict[MetricKey, CommitEffect]:
    """The commit effects, pooled over the metrics of each unit (`shared_effects`)."""
    by_unit: dict[str, dict[MetricKey, CommitEffect]] = {}
    for key, effect in effects.items():
        if effect is not None:
            by_unit.setdefault(head_by[key][0].unit, {})[key] = effect
    return {k: e for unit in by_unit.values() for k, e in shared_effects(unit).items()}


def _log_median(row: MetricRow) -> float:
    return math.log(float(statistics.median(row_samples(row))))


def exact_within_minimum(found: Comparison, config: Config) -> Comparison:
    """An exact comparison `found` judged against its benchmark's own minimum effect: no
    default minimum applies to an exact figure, only one a `[[benchmark]]` entry of
    `config` sets; a change within it is `unchanged`, saying so."""
    configured = _own_minimum(config, found.benchmark)
    ratio = found.ratio or 1.0
    if found.verdict in CHANGES and 1 / (1 + configured) <= ratio <= 1 + configured:
        note = f"changed by less than its configured {configured:.0%} minimum; "
        return dataclasses.replace(found, verdict="unchanged", note=note + str(found.note))
    return found


def _own_minimum(config: Config, label: str) -> float:
    """The minimum effect a `[[benchmark]]` entry of `config` sets for `label`, else 0:
    an exact figure has no default minimum, only a benchmark's own."""
    return dataclasses.replace(config, min_effect=None).min_effect_for(label, 0.0)
