"""The always-valid test of paired rounds: its closed-form interval, its level under a
look after every round (measured on simulated null sequences of several families, not
assumed), the coverage of its confidence sequence at every look, and its power.

Measured with these seeds (2000 sequences, 30 rounds, a look after each judging the
rounds so far winsorised as `perfci ab` does, α 0.05), the share of null sequences that
ever flag: Gaussian rounds 2.3%, Student t3 run levels 1.9%, bimodal run levels 0.9%,
AR(1) 0.5 run levels under the ABBA order 4.0%, a slow process one round in twenty 2.3%;
the model does not hold, and the level is exceeded, for AR(1) 0.5 rounds (21%) and nearly
two-valued rounds (±5% with 0.5% spread: 25%). Power with 2% noise a round: +5% found
after a median of 5 rounds, +10% after 4 (all within 12 rounds).
suites/perfci/quality/ab_stats.md has the same with more sequences."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from perfci.stats.sequential import (
    MIXTURE_PRECISION,
    anytime_p_value,
    half_width,
    log_e_process,
    sequential_test,
    winsorised,
)

ALPHA = 0.05
SEQUENCES, ROUNDS = 2000, 30
Family = Callable[[np.random.Generator, int], np.ndarray]


def binomial_upper(n: int, p: float, tail: float = 1e-3) -> float:
    """The share of n trials that Binomial(n, p) exceeds with probability below `tail`."""
    total = 0.0
    for k in range(n, -1, -1):
        log_pk = (
            math.lgamma(n + 1)
            - math.lgamma(k + 1)
            - math.lgamma(n - k + 1)
            + k * math.log(p)
            + (n - k) * math.log1p(-p)
        )
        total += math.exp(log_pk)
        if total > tail:
            return (k + 1) / n
    return 0.0


def gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(0, 0.02, n)


def student_t3(rng: np.random.Generator, n: int) -> np.ndarray:
    # each run's level heavy-tailed; a round is the difference of two runs
    return 0.01 * (rng.standard_t(3, n) - rng.standard_t(3, n))


def bimodal_runs(rng: np.random.Generator, n: int) -> np.ndarray:
    # each process takes a slow code path (+8%) one time in five, 1% noise otherwise
    def run() -> np.ndarray:
        level: np.ndarray = rng.normal(0, 0.01, n) + 0.08 * (rng.random(n) < 0.2)
        return level

    d: np.ndarray = run() - run()
    return d


def _ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    e = np.empty(n)
    e[0] = rng.normal()
    for t in range(1, n):
        e[t] = rho * e[t - 1] + math.sqrt(1 - rho * rho) * rng.normal()
    return 0.02 * e


def ar1_runs_abba(rng: np.random.Generator, n: int) -> np.ndarray:
    # the machine drifts (AR(1) 0.5 from run to run); runs alternate ABBA BAAB ...
    level = _ar1(rng, 2 * n, 0.5)
    opener = "ABBABAAB"
    d = [
        level[2 * i + 1] - level[2 * i] if opener[i % 8] == "A" else level[2 * i] - level[2 * i + 1]
        for i in range(n)
    ]
    return np.array(d)


def ar1_rounds(rng: np.random.Generator, n: int) -> np.ndarray:
    return _ar1(rng, n, 0.5)


def two_valued(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.5, 0.05, -0.05) + rng.normal(0, 0.005, n)


def slow_process(rng: np.random.Generator, n: int) -> np.ndarray:
    # 2.5% rounds; one in twenty has a process in a slow state, +30-60% on either side
    d = rng.normal(0, 0.025, n)
    slow = rng.random(n) < 0.05
    d[slow] += rng.choice([-1.0, 1.0], slow.sum()) * rng.uniform(0.3, 0.6, slow.sum())
    return d


def flags_at_some_look(d: np.ndarray) -> bool:
    """Whether a look after some round flags, each look judging the rounds so far as
    `perfci ab` does (winsorised at that look)."""
    return any(anytime_p_value(d[:n]) <= ALPHA for n in range(2, d.size + 1))


def ever_flagged(family: Family, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = sum(flags_at_some_look(family(rng, ROUNDS)) for _ in range(SEQUENCES))
    return hits / SEQUENCES


def test_the_interval_is_where_the_e_process_crosses_its_threshold() -> None:
    rng = np.random.default_rng(1)
    for n in (3, 5, 12, 30):
        d = rng.normal(0.03, 0.02, n)
        spread = float(np.sum((d - d.mean()) ** 2))
        for alpha in (0.05, 0.005):
            h = half_width(n, spread, alpha)
            if not math.isfinite(h):
                continue
            for mu in (d.mean() - h, d.mean() + h):
                assert log_e_process(d, mu)[-1] == pytest.approx(math.log(1 / alpha), abs=1e-9)
            inside = log_e_process(d, d.mean() + 0.99 * h)[-1]
            outside = log_e_process(d, d.mean() + 1.01 * h)[-1]
            assert inside < math.log(1 / alpha) < outside


def test_the_interval_is_unbounded_exactly_while_no_spread_could_reject() -> None:
    # with no spread at all E_n reaches its largest value, ((n + c)/c)^((n - 1)/2)
    c = MIXTURE_PRECISION
    for alpha in (0.05, 0.005, 0.0005):
        for n in range(1, 12):
            reachable = (n - 1) / 2 * math.log((n + c) / c) > math.log(1 / alpha)
            assert math.isfinite(half_width(n, 1.0, alpha)) is reachable
    assert not math.isfinite(half_width(2, 1.0, 0.05))
    assert math.isfinite(half_width(3, 1.0, 0.05))


def test_one_round_is_no_evidence() -> None:
    for x in (-0.3, 0.01, 2.0):
        assert log_e_process([x])[-1] == pytest.approx(0.0, abs=1e-12)
    one = sequential_test([0.02])
    assert (one.p_value, one.low, one.high, one.noise) == (1.0, 0.0, math.inf, None)
    assert not one.bounded and one.detectable == math.inf


def test_scale_free() -> None:
    d = np.random.default_rng(2).normal(0.01, 0.02, 10)
    small, large = sequential_test(d), sequential_test(5 * d)
    assert small.p_value == pytest.approx(large.p_value, rel=1e-9)
    assert math.log(large.high) == pytest.approx(5 * math.log(small.high), rel=1e-9)
    assert math.log(large.low) == pytest.approx(5 * math.log(small.low), rel=1e-9)


def test_the_interval_excludes_no_change_exactly_when_the_p_value_is_below_its_level() -> None:
    rng = np.random.default_rng(3)
    both = 0
    for _ in range(400):
        d = rng.normal(rng.choice([0.0, 0.01, 0.03]), 0.02, int(rng.integers(2, 20)))
        for alpha in (0.05, 0.01):
            est = sequential_test(d, alpha)
            excludes = est.low > 1 or est.high < 1
            assert excludes is (est.p_value <= alpha)
            both += excludes
    assert 50 < both < 750  # both outcomes were exercised


def test_inputs_are_checked() -> None:
    bad: list[Any] = [[], [math.nan], [math.inf, 0.0], [[0.1, 0.2]]]
    for values in bad:
        with pytest.raises(ValueError, match="log ratios"):
            sequential_test(values)
    with pytest.raises(ValueError, match="alpha"):
        sequential_test([0.1, 0.2, 0.3], alpha=1.5)


@pytest.mark.parametrize(
    ("family", "seed"),
    [
        (gaussian, 10),
        (student_t3, 11),
        (bimodal_runs, 12),
        (ar1_runs_abba, 13),
        (slow_process, 21),
    ],
)
def test_false_alarms_with_a_look_after_every_round_stay_within_the_level(
    family: Family, seed: int
) -> None:
    assert ever_flagged(family, seed) <= binomial_upper(SEQUENCES, ALPHA)


def test_a_fixed_sample_t_test_looked_at_every_round_would_not() -> None:
    # the harness sees inflation where there is some: the naive look after every round
    rng = np.random.default_rng(14)
    hits = 0
    for _ in range(SEQUENCES):
        d = gaussian(rng, ROUNDS)
        n = np.arange(3, ROUNDS + 1)
        mean = np.cumsum(d)[2:] / n
        sd = np.sqrt((np.cumsum(d * d)[2:] - n * mean * mean) / (n - 1))
        t = np.abs(mean) / (sd / np.sqrt(n))
        hits += bool(np.any(t > 2.2))  # about t's 5% two-sided quantile at 10-30 df
    assert hits / SEQUENCES > 2 * binomial_upper(SEQUENCES, ALPHA)


@pytest.mark.parametrize(("family", "seed"), [(ar1_rounds, 15), (two_valued, 16)])
def test_where_the_model_fails_the_level_is_exceeded(family: Family, seed: int) -> None:
    # correlated rounds and nearly two-valued rounds break the Gaussian model: measured
    # and stated in the module's docstring rather than hidden
    assert ever_flagged(family, seed) > 2 * binomial_upper(SEQUENCES, ALPHA)


def test_the_confidence_sequence_covers_at_every_look() -> None:
    rng = np.random.default_rng(17)
    mu = math.log(1.04)
    missed_any = missed_last = 0
    for _ in range(SEQUENCES):
        d = rng.normal(mu, 0.02, ROUNDS)
        missed_any += bool(np.max(log_e_process(d, mu)) >= math.log(1 / ALPHA))
        est = sequential_test(d, ALPHA)
        missed_last += not est.low <= math.exp(mu) <= est.high
    bound = binomial_upper(SEQUENCES, ALPHA)
    assert missed_any / SEQUENCES <= bound
    assert missed_last <= missed_any  # the running intersection misses only what a look did


def rounds_to_flag(effect: float, noise: float, seed: int, count: int = 1000) -> np.ndarray:
    """Rounds until the anytime p-value first falls to α (ROUNDS + 1 if never)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        d = rng.normal(math.log1p(effect), noise, ROUNDS)
        crossed = np.flatnonzero(log_e_process(d) >= math.log(1 / ALPHA))
        out.append(int(crossed[0]) + 1 if crossed.size else ROUNDS + 1)
    return np.array(out)


def test_power_at_five_and_ten_percent_with_two_percent_noise() -> None:
    ten, five = rounds_to_flag(0.10, 0.02, 18), rounds_to_flag(0.05, 0.02, 19)
    assert np.mean(ten <= 12) >= 0.9
    assert np.median(ten) <= 5
    assert np.median(five) <= 8
    assert np.median(five) >= np.median(ten)
    assert np.mean(five <= ROUNDS) >= 0.95


def test_one_slow_process_does_not_hold_the_interval_open() -> None:
    # rounds within ±2.5% and one +50% round: the plain interval would be set by that
    # round; winsorised, it is near what the other rounds alone give
    rng = np.random.default_rng(22)
    d = rng.normal(0, 0.025, ROUNDS)
    others = sequential_test(np.delete(d, 5))
    d[5] = 0.5
    plain = half_width(ROUNDS, float(np.sum((d - d.mean()) ** 2)), 0.05)
    est = sequential_test(d)
    width = math.log(est.high / est.low) / 2
    assert width < 1.5 * math.log(others.high / others.low) / 2
    assert width < plain / 2
    assert est.noise is not None and est.noise < 0.05


def test_a_slow_process_now_and_then_costs_little_power() -> None:
    rng = np.random.default_rng(23)
    found = [flags_at_some_look(slow_process(rng, ROUNDS) + math.log(1.05)) for _ in range(400)]
    assert np.mean(found) >= 0.95


def test_winsorising_starts_only_once_extremes_can_be_told_from_the_spread() -> None:
    few = [0.0, 0.01, -0.01, 0.5]
    assert np.array_equal(winsorised(few), np.asarray(few))
    # from 11 rounds on one extreme leaves the 10th-90th percentiles alone
    many = [0.0, 0.01, -0.01, 0.02, -0.02, 0.01, 0.0, -0.01, 0.02, 0.0, 0.01, 0.5]
    assert winsorised(many)[-1] < 0.1 and np.array_equal(winsorised(many)[:-1], many[:-1])
    assert np.array_equal(winsorised([0.03] * 8), [0.03] * 8)  # no spread: nothing to clip


def test_the_detectable_change_is_found_most_of_the_time() -> None:
    rng = np.random.default_rng(20)
    n, noise = 10, 0.02
    detectable = float(
        np.median([sequential_test(gaussian(rng, n)).detectable for _ in range(400)])
    )
    assert 0 < detectable < 0.1
    found = [
        sequential_test(rng.normal(math.log1p(detectable), noise, n)).p_value <= ALPHA
        for _ in range(1000)
    ]
    assert 0.65 <= np.mean(found) <= 0.95
    more = float(np.median([sequential_test(gaussian(rng, 3 * n)).detectable for _ in range(400)]))
    assert more < detectable
