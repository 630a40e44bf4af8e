"""Verdicts of a same-job A/B comparison, from its paired rounds.

A round is one base run and one head run measured next to each other in fresh
processes; what drifts on the machine falls on both alike, so each round gives one log
ratio of the runs' medians, and the rounds' own spread is the noise (`noise` "paired").
Each benchmark × metric is judged on the rounds that measured it (a benchmark measured
again because it was undecided appears only in the later rounds that ran it) with an
always-valid test and confidence sequence (`perfci.stats.sequential`), so the verdicts
can be asked for after every round and measuring stopped as soon as they are decided.

The verdicts mean what `perfci.compare.compare_metrics`'s mean: a regression or an
improvement is significant and at least the metric's minimum effect; unchanged lies
within ±the minimum effect (or is significant but smaller); inconclusive is neither,
and needs more rounds. False alarms are controlled over all metrics judged with the
Benjamini-Hochberg procedure at 5% on the anytime p-values, and the intervals are the
confidence sequences at the matching level 1 - 0.05·R/m for R flagged of m. Deterministic
figures are compared exactly, a process's high-water mark never gates, and the
acknowledgements of perfci.toml apply, all as in `compare_metrics`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from perfci.compare import (
    DEFAULT_MIN_EFFECT,
    FAMILY_CONFIDENCE,
    PROCESS_WIDE,
    Comparison,
    acknowledge,
    exact,
    exact_within_minimum,
    never_judged,
    row_samples,
    unpaired,
)
from perfci.config import Config
from perfci.results import canonical_params
from perfci.stats.runs import Verdict, benjamini_hochberg
from perfci.stats.sequential import SequentialEstimate, sequential_test
from perfci.store.queries import MetricRow, OutcomeRow
from perfci.verdicts import MetricKey, benchmark_label, metric_key

Round = tuple[Sequence[MetricRow], Sequence[MetricRow]]
MIN_PAIRED = 2  # rounds before the rounds' spread is measured at all


def judge_interval(
    ratio: float, low: float, high: float, direction: str, min_effect: float
) -> Verdict:
    """`perfci.stats.runs.judge`'s rule on a ratio and its interval: a change when the
    interval excludes 1 and the ratio is at least `min_effect` away from 1; unchanged
    when the interval lies within ±`min_effect` or excludes 1 by less than it; else
    inconclusive."""
    up, down = 1 + min_effect, 1 / (1 + min_effect)
    significant = low > 1 or high < 1
    if significant and (ratio >= up or ratio <= down):
        return "regression" if (ratio > 1) == (direction == "lower") else "improvement"
    if significant or (down <= low and high <= up):
        return "unchanged"
    return "inconclusive"


def _log_median(row: MetricRow) -> float:
    return math.log(float(np.median(np.asarray(row_samples(row), dtype=np.float64))))


def _note(est: SequentialEstimate) -> str:
    rounds = f"paired over {est.n} round{'s' if est.n != 1 else ''}"
    if est.noise is None:
        return f"{rounds}; noise a round unknown"
    return f"{rounds}; noise {est.noise:.1%} a round"


def _by_round(rounds: Sequence[Round], side: int) -> dict[MetricKey, dict[int, MetricRow]]:
    out: dict[MetricKey, dict[int, MetricRow]] = {}
    for i, pair in enumerate(rounds):
        for row in pair[side]:
            out.setdefault(metric_key(row.suite, row.name, row.params, row.metric), {})[i] = row
    return out


def compare_rounds(
    rounds: Sequence[Round],
    config: Config,
    commit: str | None = None,
    min_effect: float | None = None,
    head_outcomes: Sequence[OutcomeRow] = (),
) -> list[Comparison]:
    """Verdicts for every metric in the rounds: `rounds` in order, each round's (base
    run's metrics, head run's metrics) as `perfci.store.queries.run_metrics` gives them.
    A metric is judged on the rounds whose base and head runs both measured it. `config`
    (perfci.toml): each benchmark's minimum effect (`Config.min_effect_for`, with
    `min_effect`, else `perfci.compare.DEFAULT_MIN_EFFECT`, where it sets none) and the
    acknowledged changes of the head's `commit`. A metric only head measured is `new`,
    one only base measured `missing` (`error` when `head_outcomes` says it failed in
    head), and one with a non-positive value `error`, as in `compare_metrics`."""
    default = DEFAULT_MIN_EFFECT if min_effect is None else min_effect
    base_by, head_by = _by_round(rounds, 0), _by_round(rounds, 1)
    failed = {
        (o.suite, o.name, canonical_params(o.params)) for o in head_outcomes if o.status == "error"
    }
    pairs = {
        k: [(base_by[k][i], head_by[k][i]) for i in sorted(head_by[k]) if i in base_by[k]]
        for k in head_by
        if k in base_by
    }
    valid = {
        k for k, ps in pairs.items() if ps and min(min(row_samples(r)) for p in ps for r in p) > 0
    }
    exacts: dict[MetricKey, Comparison] = {}
    for k in valid:
        base, head = [row_samples(b) for b, _ in pairs[k]], [row_samples(h) for _, h in pairs[k]]
        if (found := exact(pairs[k][0][1], base, head, 0, 0)) is not None:
            exacts[k] = exact_within_minimum(found, config)
    logs = {k: [_log_median(h) - _log_median(b) for b, h in pairs[k]] for k in valid}
    alpha = 1 - FAMILY_CONFIDENCE
    judged = [k for k in valid if k not in exacts and k[3] not in PROCESS_WIDE]
    tested = [sequential_test(logs[k], alpha).p_value for k in judged if len(logs[k]) >= MIN_PAIRED]
    flagged = benjamini_hochberg(tested, alpha) if tested else 0
    level = alpha * max(flagged, 1) / max(len(tested), 1)
    out: list[Comparison] = []
    for key, by_round in head_by.items():
        row = next(iter(by_round.values()))
        label = benchmark_label(row.suite, row.name)
        if key not in base_by:
            out.append(
                unpaired(row, "new", 0, sum(r.n for r in by_round.values()), "no base measurement")
            )
            continue
        n_base = sum(b.n for b, _ in pairs[key])
        n_head = sum(h.n for _, h in pairs[key])
        if not pairs[key]:
            out.append(
                Comparison(
                    label, row.params, row.metric, row.unit, row.direction, "inconclusive",
                    None, None, None, 0, 0, "no round measured it in both base and head",
                    noise="paired",
                )
            )  # fmt: skip
            continue
        if key not in valid:
            out.append(unpaired(row, "error", n_base, n_head, "non-positive values"))
            continue
        if key in exacts:
            out.append(dataclasses.replace(exacts[key], n_base=n_base, n_head=n_head))
            continue
        out.append(
            _judged(row, logs[key], level, config.min_effect_for(label, default), n_base, n_head)
        )
    for key, by_round in base_by.items():
        if key not in head_by:
            row = next(iter(by_round.values()))
            n = sum(r.n for r in by_round.values())
            if key[:3] in failed:
                out.append(unpaired(row, "error", n, 0, "failed in head"))
            else:
                out.append(unpaired(row, "missing", n, 0, "not measured in head"))
    return acknowledge(out, config, commit)


def _judged(
    row: MetricRow,
    logs: Sequence[float],
    alpha: float,
    effect: float,
    n_base: int,
    n_head: int,
) -> Comparison:
    est = sequential_test(logs, alpha)
    verdict: Verdict = judge_interval(est.ratio, est.low, est.high, row.direction, effect)
    note = _note(est)
    gates = row.metric not in PROCESS_WIDE
    if not gates:
        verdict, note = never_judged(verdict, note)
    elif est.n < MIN_PAIRED:
        note = f"a verdict needs {MIN_PAIRED} rounds or more; " + note
    elif verdict == "inconclusive":
        found = f"detectable ±{est.detectable:.1%}" if est.bounded else "interval unbounded yet"
        note = f"too noisy for ±{effect:.0%}: {found}; " + note
    elif verdict == "unchanged" and not est.low <= 1 <= est.high:
        note = f"changed by less than the {effect:.0%} minimum; " + note
    return Comparison(
        benchmark_label(row.suite, row.name),
        row.params,
        row.metric,
        row.unit,
        row.direction,
        verdict,
        est.ratio,
        (est.low, est.high) if est.bounded else None,
        est.p_value,
        n_base,
        n_head,
        note,
        noise="paired",
        gates=gates,
        detectable=est.detectable if math.isfinite(est.detectable) else None,
    )


def undecided(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The gating comparisons still inconclusive: those more rounds could decide."""
    return [c for c in comparisons if c.verdict == "inconclusive" and c.gates]
