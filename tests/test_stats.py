"""Summary statistics against NumPy, and the pairwise ratio of medians with its verdicts."""

from __future__ import annotations

import math
import statistics
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfci.stats.pairwise import RatioEstimate, classify, ratio_of_medians
from perfci.stats.summary import Summary, summarize, summarize_many

positive = st.floats(min_value=1e-9, max_value=1e6, allow_nan=False, allow_infinity=False)
samples_st = st.lists(positive, min_size=1, max_size=40)


def assert_matches_numpy(summary: Summary, values: list[float]) -> None:
    a = np.asarray(values, dtype=np.float64)
    scale = float(np.max(np.abs(a)))
    tol = 1e-12 * scale
    assert summary.n == len(values)
    assert summary.min == a.min()
    assert summary.max == a.max()
    assert summary.median == pytest.approx(float(np.median(a)), rel=1e-12, abs=tol)
    assert summary.q1 == pytest.approx(float(np.quantile(a, 0.25)), rel=1e-12, abs=tol)
    assert summary.q3 == pytest.approx(float(np.quantile(a, 0.75)), rel=1e-12, abs=tol)
    assert summary.mean == pytest.approx(float(np.mean(a)), rel=1e-12, abs=tol)
    expected_sd = float(np.std(a, ddof=1)) if len(values) > 1 else 0.0
    assert summary.stddev == pytest.approx(expected_sd, rel=1e-9, abs=1e-9 * scale)


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.0],
        [3.0, 1.0, 2.0],
        [4.0, 1.0, 3.0, 2.0],
        [1.0, 2.0, 3.0, 4.0, 100.0],
        [0.001, 0.0011, 0.00105, 0.00098, 0.00102, 0.0013],
        [5.0, 5.0, 5.0, 5.0],
        [-2.0, 0.0, 7.5, 3.25, -1.0, 11.0, 4.0],
    ],
)
def test_summarize_matches_numpy(values: list[float]) -> None:
    assert_matches_numpy(summarize(values), values)


def test_summarize_known_values() -> None:
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert (s.n, s.median, s.mean, s.min, s.max) == (4, 2.5, 2.5, 1.0, 4.0)
    assert (s.q1, s.q3) == (1.75, 3.25)  # type 7: 1 + 0.75*(2-1), 3 + 0.25*(4-3)
    assert s.stddev == pytest.approx(math.sqrt(5 / 3), rel=1e-15)


def test_summarize_one_sample() -> None:
    assert summarize([0.25]) == Summary(
        n=1, median=0.25, mean=0.25, stddev=0.0, min=0.25, max=0.25, q1=0.25, q3=0.25
    )


@pytest.mark.parametrize("empty", [[], ()])
def test_summarize_empty_raises(empty: list[float]) -> None:
    with pytest.raises(ValueError, match="empty"):
        summarize(empty)


@given(samples_st)
@settings(max_examples=200, deadline=None, database=None)
def test_summarize_matches_numpy_property(values: list[float]) -> None:
    assert_matches_numpy(summarize(values), values)


@given(st.lists(samples_st, min_size=0, max_size=12))
@settings(max_examples=200, deadline=None, database=None)
def test_summarize_many_equals_summarize(batch: list[list[float]]) -> None:
    many = summarize_many(batch)
    assert len(many) == len(batch)
    for got, values in zip(many, batch, strict=True):
        one = summarize(values)
        scale = max(values)
        assert (got.n, got.min, got.max) == (one.n, one.min, one.max)
        for name in ("median", "q1", "q3", "mean"):
            assert getattr(got, name) == pytest.approx(
                getattr(one, name), rel=1e-12, abs=1e-12 * scale
            ), name
        assert got.stddev == pytest.approx(one.stddev, rel=1e-9, abs=1e-9 * scale)


def test_summarize_many_keeps_order_across_lengths() -> None:
    batch = [[5.0, 1.0, 3.0], [7.0], [2.0, 4.0], [9.0, 8.0, 10.0], [6.0]]
    many = summarize_many(batch)
    assert [s.median for s in many] == [3.0, 7.0, 3.0, 9.0, 6.0]
    assert [s.n for s in many] == [3, 1, 2, 3, 1]
    assert [s.stddev for s in many][1] == 0.0


def test_summarize_many_empty_member_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        summarize_many([[1.0, 2.0], []])


# ---------------------------------------------------------------- pairwise


def lognormal(median: float, n: int, sigma: float = 0.05) -> list[float]:
    """Evenly spaced quantiles of a log-normal: a deterministic, noise-free sample."""
    return [median * math.exp(sigma * NormalDist().inv_cdf((i + 0.5) / n)) for i in range(n)]


@pytest.mark.parametrize(
    ("base", "head"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0]),
        ([1.0, 2.0, 3.0], [1.0, 2.0]),
        ([], []),
        ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]),
        ([1.0, 2.0, 3.0], [-1.0, 2.0, 3.0]),
    ],
)
def test_ratio_needs_three_positive_samples_a_side(base: list[float], head: list[float]) -> None:
    assert ratio_of_medians(base, head) is None


@pytest.mark.parametrize(
    ("base", "head"),
    [
        ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]),
        ([1.0, 2.0, 3.0, 4.0], [3.0, 1.0, 2.0, 10.0, 7.0]),
        (lognormal(1e-3, 20), lognormal(1.1e-3, 31)),
        ([0.5, 0.7, 0.6, 0.9], [0.3, 0.2, 0.25]),
    ],
)
def test_ratio_is_the_ratio_of_medians(base: list[float], head: list[float]) -> None:
    est = ratio_of_medians(base, head)
    assert est is not None
    expected = statistics.median(head) / statistics.median(base)
    assert est.ratio == pytest.approx(expected, rel=1e-12)
    assert est.low <= est.ratio <= est.high
    assert est.low > 0


def test_ratio_of_identical_samples_is_one() -> None:
    sample = lognormal(2e-3, 25)
    est = ratio_of_medians(sample, sample)
    assert est is not None
    assert est.ratio == pytest.approx(1.0, rel=1e-12)
    assert est.low < 1.0 < est.high


def test_interval_narrows_with_more_samples() -> None:
    widths = []
    for n in (5, 20, 100, 1000):
        est = ratio_of_medians(lognormal(1.0, n), lognormal(1.05, n))
        assert est is not None
        assert est.ratio == pytest.approx(1.05, rel=0.01)
        widths.append(math.log(est.high) - math.log(est.low))
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < widths[0] / 4


def test_higher_confidence_gives_a_wider_interval() -> None:
    base, head = lognormal(1.0, 40), lognormal(1.02, 40)
    narrow, wide = ratio_of_medians(base, head, 0.8), ratio_of_medians(base, head, 0.99)
    assert narrow is not None and wide is not None
    assert wide.low <= narrow.low and narrow.high <= wide.high
    assert (wide.high - wide.low) > (narrow.high - narrow.low)


EFFECT = 0.05
UP = 1 + EFFECT
DOWN = 1 / (1 + EFFECT)


@pytest.mark.parametrize(
    ("low", "high", "lower_is_better", "higher_is_better"),
    [
        (1.10, 1.20, "regression", "improvement"),
        (0.80, 0.90, "improvement", "regression"),
        (0.99, 1.01, "unchanged", "unchanged"),
        (DOWN, UP, "unchanged", "unchanged"),  # boundaries belong to "unchanged"
        (UP, UP, "unchanged", "unchanged"),
        (math.nextafter(UP, 2), 1.2, "regression", "improvement"),
        (UP, 1.2, "inconclusive", "inconclusive"),
        (0.8, math.nextafter(DOWN, 0), "improvement", "regression"),
        (0.8, DOWN, "inconclusive", "inconclusive"),
        (0.98, 1.08, "inconclusive", "inconclusive"),
        (0.90, 1.02, "inconclusive", "inconclusive"),
        (0.90, 1.10, "inconclusive", "inconclusive"),
    ],
)
def test_classify(low: float, high: float, lower_is_better: str, higher_is_better: str) -> None:
    est = RatioEstimate(ratio=math.sqrt(low * high), low=low, high=high)
    assert classify(est, "lower", EFFECT) == lower_is_better
    assert classify(est, "higher", EFFECT) == higher_is_better


def test_classify_end_to_end() -> None:
    base = lognormal(1e-3, 50, sigma=0.01)
    slower = ratio_of_medians(base, lognormal(1.3e-3, 50, sigma=0.01))
    same = ratio_of_medians(base, lognormal(1e-3, 50, sigma=0.01))
    assert slower is not None and same is not None
    assert classify(slower, "lower", EFFECT) == "regression"
    assert classify(slower, "higher", EFFECT) == "improvement"
    assert classify(same, "lower", EFFECT) == "unchanged"
