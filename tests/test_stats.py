"""Summary statistics against NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
