"""The history detector: quiet on noise, sharp on steps, robust, incremental, and clear
about bad input. Seeds are fixed; the rates asserted leave room for sampling error."""

from __future__ import annotations

import numpy as np
import pytest

from perfci.stats.changepoint import SeriesError, check_tail, detect, replay
from perfci.stats.scan import block_inflation


def noise(seed: int, n: int = 200, cv: float = 0.02) -> np.ndarray:
    return 1 + cv * np.random.default_rng(seed).standard_normal(n)


def test_block_inflation_matches_the_ar1_sum() -> None:
    rho = 0.5
    for m in (1, 2, 5, 50):
        brute = 1 + 2 * sum((1 - j / m) * rho**j for j in range(1, m))
        assert block_inflation(np.array([float(m)]), rho)[0] == pytest.approx(brute)


def test_quiet_on_gaussian_noise() -> None:
    alerts = sum(bool(detect(noise(s))) for s in range(200))
    assert alerts <= 4


def test_finds_and_places_a_five_percent_step() -> None:
    hits = 0
    for s in range(50):
        values = noise(s)
        values[120:] *= 1.05
        found = detect(values)
        hits += any(c.kind == "regression" and abs(c.index - 120) <= 1 for c in found)
    assert hits >= 45


def test_direction_decides_the_kind() -> None:
    values = noise(1)
    values[100:] *= 0.9
    (lower,) = detect(values, "lower")
    (higher,) = detect(values, "higher")
    assert (lower.kind, higher.kind) == ("improvement", "regression")
    assert lower.ratio == pytest.approx(0.9, abs=0.01)


def test_outliers_do_not_raise_alerts() -> None:
    alerts = 0
    for s in range(100):
        values = noise(s)
        rng = np.random.default_rng(1000 + s)
        values[rng.random(200) < 0.02] *= 1.4
        alerts += bool(detect(values))
    assert alerts <= 2


def test_autocorrelated_noise_is_not_a_change() -> None:
    alerts = 0
    for s in range(100):
        rng = np.random.default_rng(s)
        e = np.zeros(200)
        for i in range(1, 200):
            e[i] = 0.5 * e[i - 1] + 0.02 * np.sqrt(0.75) * rng.standard_normal()
        alerts += bool(detect(1 + e))
    assert alerts <= 3


def test_replay_finds_a_change_five_points_after_it() -> None:
    values = noise(3)
    values[195:] *= 1.10
    found = replay(values, start_at=190)
    assert [(c.index, c.kind) for c in found] == [(195, "regression")]


def test_check_tail_looks_only_after_the_last_change() -> None:
    values = noise(4, 150)
    values[50:] *= 1.10
    assert check_tail(values, start=0) is not None
    assert check_tail(values, start=50) is None


def test_scale_does_not_matter() -> None:
    values = noise(5)
    values[100:] *= 1.05
    assert [c.index for c in detect(values)] == [c.index for c in detect(values * 1e-7)]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, float("nan"), 1.0], "value 2 is not a finite number"),
        ([1.0, float("inf")], "value 2 is not a finite number"),
        ([1.0, 0.0], "value 2 is not positive"),
    ],
)
def test_bad_values_are_refused(values: list[float], message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        detect(values)


@pytest.mark.parametrize("values", [[], [1.0], [2.0] * 100, [1.0, 2.0] * 3])
def test_short_or_constant_series_have_no_change(values: list[float]) -> None:
    assert detect(values) == []


def test_a_regression_needs_less_evidence_than_an_improvement() -> None:
    """The same step, read as a regression (lower is better) and as an improvement
    (higher is better): the first is reported from a weaker statistic than the second."""
    as_regression = as_improvement = 0
    for s in range(60):
        values = noise(100 + s)
        values[195:] *= 1.04  # five values after: near both thresholds
        as_regression += any(c.kind == "regression" for c in replay(values, "lower", start_at=190))
        as_improvement += any(
            c.kind == "improvement" for c in replay(values, "higher", start_at=190)
        )
    assert as_regression > as_improvement + 10


def test_the_fast_check_agrees_with_the_full_evidence() -> None:
    """check_tail stops as soon as no split can pass its threshold: its answer must be
    the one the full evidence (best_split) gives."""
    from perfci.stats.changepoint import best_split

    for s in range(40):
        values = noise(300 + s, 120)
        values[60 + s :] *= 1 + 0.002 * s  # from no step to a clear one
        split = best_split(values)
        assert split is not None
        accepted = split.significant and abs(np.log(split.ratio)) >= np.log1p(0.01)
        accepted = accepted and (split.ratio > 1) == (split.statistic > 0)
        change = check_tail(values, start=0)
        assert (change is not None) == accepted
        if change is not None:
            assert change.index == split.index


def test_a_slow_drift_is_a_drift_not_a_step_at_one_commit() -> None:
    drifts = steps = alerts = 0
    for s in range(10):
        drifting = noise(s) * np.linspace(1, 1.10, 200)
        found = replay(drifting)
        assert found and all(c.kind == "regression" for c in found)
        drifts += sum(c.shape == "drift" for c in found) / len(found)
        alerts += len(found)
        stepped = noise(s)
        stepped[100:] *= 1.05
        (step,) = replay(stepped)
        steps += step.shape == "step" and step.start == 0
    assert drifts >= 6 and steps == 10  # most drift alerts say so (QUALITY.md)
    assert alerts <= 22  # a drift that goes on grows its alert: 29 alerts without that
    drift = next(c for c in replay(noise(0) * np.linspace(1, 1.10, 200)) if c.shape == "drift")
    assert drift.start < drift.index  # the range the values drifted over
