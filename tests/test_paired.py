"""Verdicts of same-job A/B rounds: the comparator's vocabulary and rules on paired
rounds, judged with the always-valid test, false alarms controlled across metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from perfci.ab.paired import compare_rounds, judge_interval, undecided
from perfci.compare import Comparison, compare_metrics
from perfci.config import Config, parse
from perfci.stats.runs import RunsEstimate, judge
from perfci.stats.sequential import sequential_test
from perfci.store.queries import MetricRow, OutcomeRow
from perfci.verdicts import Direction

SUITE = "suites/demo/test_demo.py"
Round = tuple[list[MetricRow], list[MetricRow]]


def row(name: str, samples: Sequence[float], metric: str = "latency", **kw: str) -> MetricRow:
    s = tuple(float(x) for x in samples)
    m = float(np.median(s))
    unit, direction = kw.get("unit", "s"), kw.get("direction", "lower")
    return MetricRow(SUITE, name, {"n": 1}, metric, unit, direction, len(s), m, m, m, s)


def measure(rng: np.random.Generator, level: float, noise: float) -> list[float]:
    """One run's samples: the run's own level (run-to-run noise) and 1% within it."""
    run = level * math.exp(noise * rng.standard_normal())
    return list(run * np.exp(0.01 * rng.standard_normal(10)))


def rounds(
    rng: np.random.Generator,
    count: int,
    benchmarks: int = 20,
    shift: dict[int, float] | None = None,
    noise: float = 0.007,
) -> list[Round]:
    shift = shift or {}
    out = []
    for _ in range(count):
        base = [row(f"b{i}", measure(rng, 1.0 + i, noise)) for i in range(benchmarks)]
        head = [
            row(f"b{i}", measure(rng, (1.0 + i) * (1 + shift.get(i, 0)), noise))
            for i in range(benchmarks)
        ]
        out.append((base, head))
    return out


def by_name(comparisons: Sequence[Comparison]) -> dict[str, Comparison]:
    return {c.benchmark.split("::")[1] + ":" + c.metric: c for c in comparisons}


def flags(comparisons: Sequence[Comparison]) -> list[str]:
    return [c.benchmark for c in comparisons if c.verdict in ("regression", "improvement")]


def log_ratios(pairs: Sequence[Round], name: str) -> list[float]:
    out = []
    for base, head in pairs:
        b = [r for r in base if r.name == name]
        h = [r for r in head if r.name == name]
        if b and h:
            out.append(math.log(h[0].median / b[0].median))
    return out


def test_a_and_a_flags_nothing() -> None:
    rng = np.random.default_rng(1)
    flagged_sets = 0
    verdicts: set[str] = set()
    for _ in range(40):
        out = compare_rounds(rounds(rng, 8), Config())
        assert len(out) == 20 and {c.noise for c in out} == {"paired"}
        flagged_sets += bool(flags(out))
        verdicts |= {c.verdict for c in out}
        for c in out:
            assert "paired over 8 rounds; noise " in str(c.note)
            assert c.detectable is not None and c.detectable > 0
            assert c.n_base == c.n_head == 80
    assert flagged_sets <= 5  # 40 sets at a 5% family-wise rate: P(more than 5) < 2%
    assert "unchanged" in verdicts  # a 1% round noise decides ±3% within 8 rounds


def test_a_planted_regression_among_twenty_is_the_only_flag() -> None:
    rng = np.random.default_rng(2)
    pairs = rounds(rng, 6, shift={7: 0.30})
    out = compare_rounds(pairs, Config())
    found = by_name(out)["b7:latency"]
    assert flags(out) == [found.benchmark]
    assert found.verdict == "regression" and found.ci is not None
    assert found.ci[0] <= 1.3 <= found.ci[1] and found.ratio == pytest.approx(1.3, rel=0.03)
    # the interval is the confidence sequence at the level Benjamini-Hochberg matches:
    # one flagged of twenty tested
    est = sequential_test(log_ratios(pairs, "b7"), 0.05 * 1 / 20)
    assert found.ci == pytest.approx((est.low, est.high))
    assert found.p_value == pytest.approx(est.p_value)
    assert found.note == f"paired over 6 rounds; noise {est.noise:.1%} a round"


def test_an_improvement_in_a_higher_is_better_metric() -> None:
    rng = np.random.default_rng(3)
    pairs = [
        (
            [row("t", measure(rng, 100.0, 0.01), "throughput", direction="higher")],
            [row("t", measure(rng, 120.0, 0.01), "throughput", direction="higher")],
        )
        for _ in range(6)
    ]
    (c,) = compare_rounds(pairs, Config())
    assert c.verdict == "improvement" and c.direction == "higher"


def test_process_wide_figures_never_gate() -> None:
    rng = np.random.default_rng(4)
    pairs = [
        (
            [row("b", measure(rng, 1e9, 0.01), "process_peak_memory", unit="B")],
            [row("b", measure(rng, 1.5e9, 0.01), "process_peak_memory", unit="B")],
        )
        for _ in range(8)
    ]
    (c,) = compare_rounds(pairs, Config())
    assert c.ratio == pytest.approx(1.5, rel=0.03)
    assert c.verdict == "inconclusive" and not c.gates
    assert c.note is not None and c.note.startswith("the process's peak")
    assert undecided([c]) == []


def test_an_exact_figure_that_changed_is_reported_exactly() -> None:
    size = [
        (
            [row("m", [1000.0] * 3, "model_size", unit="B")],
            [row("m", [1010.0] * 3, "model_size", unit="B")],
        )
        for _ in range(3)
    ]
    same = [
        ([row("p", [42.0] * 3, "params", unit="")], [row("p", [42.0] * 3, "params", unit="")])
        for _ in range(3)
    ]
    found = by_name(
        compare_rounds(
            [(a + c, b + d) for (a, b), (c, d) in zip(size, same, strict=True)], Config()
        )
    )
    changed, kept = found["m:model_size"], found["p:params"]
    assert (changed.verdict, changed.noise, changed.ratio, changed.ci) == (
        "regression", "exact", 1.01, (1.01, 1.01)
    )  # fmt: skip
    assert (kept.verdict, kept.noise) == ("unchanged", "exact")
    assert changed.n_base == changed.n_head == 9
    # within a benchmark's own configured minimum it is unchanged, as compare_metrics has it
    tolerant = parse({"benchmark": [{"match": f"{SUITE}::m", "min_effect": 0.02}]}, "perfci.toml")
    ours = by_name(compare_rounds(size, tolerant))["m:model_size"]
    theirs = compare_metrics([b for b, _ in size], [h for _, h in size], config=tolerant)[0]
    assert ours.verdict == theirs.verdict == "unchanged" and ours.note == theirs.note


def test_an_acknowledged_regression_says_why() -> None:
    rng = np.random.default_rng(5)
    pairs = rounds(rng, 6, benchmarks=3, shift={1: 0.30})
    config = parse(
        {"acknowledge": [{"benchmark": f"{SUITE}::b1", "commit": "abc", "reason": "bigger model"}]},
        "perfci.toml",
    )
    assert by_name(compare_rounds(pairs, config, commit="def0"))["b1:latency"].acknowledged is None
    found = by_name(compare_rounds(pairs, config, commit="abc123"))["b1:latency"]
    assert found.verdict == "regression" and found.acknowledged == "bigger model"
    assert found.note is not None and found.note.startswith("acknowledged: bigger model; paired")


def test_the_minimum_effect_comes_from_the_configuration_then_the_argument() -> None:
    rng = np.random.default_rng(6)
    pairs = rounds(rng, 10, benchmarks=2, shift={0: 0.06, 1: 0.06}, noise=0.003)
    default = by_name(compare_rounds(pairs, Config()))
    assert default["b0:latency"].verdict == "regression"
    wide = by_name(compare_rounds(pairs, Config(), min_effect=0.10))
    assert wide["b0:latency"].verdict == "unchanged"
    assert wide["b0:latency"].note is not None
    assert wide["b0:latency"].note.startswith("changed by less than the 10% minimum")
    per = parse({"benchmark": [{"match": "*::b1", "min_effect": 0.10}]}, "perfci.toml")
    found = by_name(compare_rounds(pairs, per))
    assert (found["b0:latency"].verdict, found["b1:latency"].verdict) == ("regression", "unchanged")


def test_a_benchmark_rerun_later_uses_only_the_rounds_it_appears_in() -> None:
    rng = np.random.default_rng(7)
    pairs = rounds(rng, 8, benchmarks=3, shift={2: 0.04})
    kept = {0: range(8), 1: range(3), 2: (0, 1, 2, 5, 6, 7)}
    thinned: list[Round] = [
        (
            [r for r in base if i in kept[int(r.name[1])]],
            [r for r in head if i in kept[int(r.name[1])]],
        )
        for i, (base, head) in enumerate(pairs)
    ]
    # round 4 measured b2 in base alone (its head run failed): that base run pairs with nothing
    thinned[4][0].append(row("b2", [99.0] * 10))
    found = by_name(compare_rounds(thinned, Config()))
    assert [found[f"b{i}:latency"].n_head for i in range(3)] == [80, 30, 60]
    assert found["b2:latency"].n_base == 60
    d = log_ratios(thinned, "b2")
    assert len(d) == 6
    assert found["b2:latency"].ratio == pytest.approx(math.exp(float(np.mean(d))))
    assert str(found["b2:latency"].note).startswith("paired over 6 rounds")


def test_new_missing_and_errors_as_the_comparator_has_them() -> None:
    rng = np.random.default_rng(8)
    base = [
        [row("kept", measure(rng, 1, 0.01)), row("gone", [1.0]), row("broke", [1.0])]
        for _ in range(4)
    ]
    head = [
        [row("kept", measure(rng, 1, 0.01)), row("fresh", [1.0]), row("zero", [0.0])]
        for _ in range(4)
    ]
    for b in base:
        b.append(row("zero", [1.0]))
    failed = [OutcomeRow(SUITE, "broke", {"n": 1}, "error", "boom")]
    found = by_name(
        compare_rounds(list(zip(base, head, strict=True)), Config(), head_outcomes=failed)
    )
    assert found["fresh:latency"].verdict == "new" and found["fresh:latency"].n_base == 0
    assert found["gone:latency"].verdict == "missing"
    assert (
        found["broke:latency"].verdict == "error"
        and found["broke:latency"].note == "failed in head"
    )
    assert found["zero:latency"].verdict == "error"
    assert found["kept:latency"].noise == "paired"
    ours = {
        c.benchmark: c.verdict
        for c in found.values()
        if c.verdict not in ("unchanged", "inconclusive")
    }
    theirs = compare_metrics(base, head, failed)
    assert ours == {c.benchmark: c.verdict for c in theirs if c.benchmark in ours}


def test_too_few_rounds_leave_a_metric_undecided_with_no_interval() -> None:
    rng = np.random.default_rng(9)
    out = compare_rounds(rounds(rng, 2, benchmarks=4, shift={0: 0.5}), Config())
    assert {c.verdict for c in out} == {"inconclusive"}
    assert all(c.ci is None and c.detectable is None for c in out)
    assert undecided(out) == out
    (one,) = compare_rounds(rounds(rng, 1, benchmarks=1), Config())
    assert one.verdict == "inconclusive" and one.note is not None
    assert one.note.startswith("a verdict needs 2 rounds or more; paired over 1 round")


def test_undecided_are_the_gating_inconclusive_ones() -> None:
    rng = np.random.default_rng(10)
    out = compare_rounds(rounds(rng, 4, benchmarks=6, shift={0: 0.5}, noise=0.02), Config())
    pending = undecided(out)
    assert pending == [c for c in out if c.verdict == "inconclusive" and c.gates]
    assert 0 < len(pending) < len(out)


@pytest.mark.parametrize("direction", ["lower", "higher"])
def test_the_interval_rule_is_the_comparators(direction: Direction) -> None:
    grid = [0.9, 0.96, 0.99, 1.0, 1.01, 1.02, 1.04, 1.1]
    for low in grid:
        for high in (h for h in grid if h >= low):
            for ratio in {low, math.sqrt(low * high), high}:
                est = RunsEstimate(ratio, low, high, 0.5, 0.01, "runs", 10, 0.02)
                assert judge_interval(ratio, low, high, direction, 0.03) == judge(
                    est, direction, 0.03
                )
