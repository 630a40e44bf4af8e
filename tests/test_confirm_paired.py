"""The confirmation's paired test: the exact t distribution, its level on rounds of an
unchanged pair whatever the runs' noise, its power on a real change, and `judge_pair`
testing in the suspected direction only."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from perfci.confirm import Pair, describe, judge_pair
from perfci.stats.confirmation import LEVEL, paired_test, t_quantile, t_upper_tail
from perfci.stats.segments import Kind
from perfci.stats.suspect import Suspect


@pytest.mark.parametrize("t", [-7.0, -1.2, 0.0, 0.3, 1.0, 2.5, 40.0])
def test_the_t_tail_is_the_closed_forms_of_one_and_two_degrees_of_freedom(t: float) -> None:
    assert t_upper_tail(t, 1) == pytest.approx(0.5 - math.atan(t) / math.pi, abs=1e-12)
    assert t_upper_tail(t, 2) == pytest.approx(0.5 - t / (2 * math.sqrt(2 + t * t)), abs=1e-12)


def test_the_t_tail_tends_to_the_normal_and_its_quantile_inverts_it() -> None:
    for t in (0.5, 1.645, 2.33, 3.1):
        assert t_upper_tail(t, 2001) == pytest.approx(1 - NormalDist().cdf(t), abs=2e-4)
    for df in (1, 2, 3, 4, 7, 12):
        for p in (0.3, 0.05, 0.01, 0.001):
            assert t_upper_tail(t_quantile(p, df), df) == pytest.approx(p, rel=1e-9)
        assert t_upper_tail(-1.5, df) == pytest.approx(1 - t_upper_tail(1.5, df), abs=1e-12)
    # heavier tails with fewer degrees of freedom
    assert t_quantile(0.01, 3) > t_quantile(0.01, 7) > NormalDist().inv_cdf(0.99)


def _two_modes(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    return np.where(rng.random(size) < 0.15, 1.05, 1.0) * (1 + 0.01 * rng.standard_normal(size))


NOISES = {
    "gaussian": lambda rng, size: 1 + 0.02 * rng.standard_normal(size),
    "log-normal": lambda rng, size: rng.lognormal(0.0, 0.5, size) * 0.02 + 1,
    "bimodal 85/15": _two_modes,
}


@pytest.mark.parametrize("noise", NOISES)
def test_rounds_of_an_unchanged_pair_support_a_suspicion_at_most_at_the_level(
    noise: str,
) -> None:
    rng = np.random.default_rng(11)
    trials = 20_000
    runs = NOISES[noise](rng, (trials, 8, 2))  # 8 rounds of two like runs
    logs = np.log(runs[..., 1] / runs[..., 0])
    supported = sum(paired_test(row, rise=True).supports for row in logs)
    # binomial: the level plus three standard errors
    assert supported / trials <= LEVEL + 3 * math.sqrt(LEVEL * (1 - LEVEL) / trials)
    assert supported > 0  # a test that never supports anything has no level to keep


def test_a_real_change_is_supported_in_its_direction_only() -> None:
    rng = np.random.default_rng(12)
    slower = [np.log(1.05) + 0.028 * rng.standard_normal(8) for _ in range(400)]
    up = sum(paired_test(row, rise=True).supports for row in slower)
    down = sum(paired_test(row, rise=False).supports for row in slower)
    assert up >= 0.9 * 400 and down == 0
    e = paired_test(slower[0], rise=True)
    assert e.low < e.ratio < e.high and e.rounds == 8
    # the interval at 1 - 2·level lies above 1 exactly when the one-sided test supports
    assert all((paired_test(r, rise=True).low > 1) == paired_test(r, True).supports for r in slower)


def test_too_few_rounds_or_none_support_nothing() -> None:
    assert not paired_test([], rise=True).supports
    one = paired_test([0.5], rise=True)
    assert not one.supports and one.rounds == 1 and math.isinf(one.high)
    assert not paired_test([0.0, 0.0, 0.0], rise=True).supports
    with pytest.raises(ValueError, match="finite"):
        paired_test([0.1, math.nan], rise=True)


def _pair(statistic: float) -> Pair:
    kind: Kind = "regression" if statistic > 0 else "improvement"
    return Pair(Suspect(195, kind, math.exp(statistic / 100), statistic, 4.0), "c194", "c199")


def test_judge_pair_tests_the_newest_over_the_commit_before_in_the_suspected_way() -> None:
    rng = np.random.default_rng(13)
    before = 1 + 0.02 * rng.standard_normal(8)
    after = 1.08 * (1 + 0.02 * rng.standard_normal(8))
    rounds = list(zip(before.tolist(), after.tolist(), strict=True))
    rose = judge_pair(_pair(3.0), rounds)
    assert rose.supports and rose.ratio == pytest.approx(
        math.exp(np.mean(np.log(after / before))), rel=1e-12
    )
    assert not judge_pair(_pair(-3.0), rounds).supports  # suspected to fall: it rose
    # swapped, the commits' roles say a fall
    assert judge_pair(_pair(-3.0), [(b, a) for a, b in rounds]).supports
    # a round whose figure is not positive has no log ratio and is left out
    assert judge_pair(_pair(3.0), [*rounds, (0.0, 1.0)]).rounds == 8


def test_the_evidence_in_words() -> None:
    e = paired_test([math.log(1.05), math.log(1.06), math.log(1.04), math.log(1.05)], True)
    words = describe(e)
    assert words.startswith("+5.0% [+") and words.endswith("] over 4 paired rounds")
    low, high = words.split("[", 1)[1].split("]", 1)[0].split(", ")
    assert float(low) == pytest.approx((e.low - 1) * 100, abs=0.051)
    assert float(high) == pytest.approx((e.high - 1) * 100, abs=0.051)
    assert describe(paired_test([0.1], True)) == "+10.5% over 1 paired round (no interval)"
