"""Synthetic performance series for the quality evaluation: seeded noise families with a
coefficient of variation of 2% (or `cv`), and steps in the regression direction.

`FAMILIES` are the families the detector was calibrated on; `UNTUNED` are families it
never saw while its constants were chosen (heavier tails, stronger autocorrelation, a
different bimodal split, values on a timer's coarse grid), reported to check that the
calibration carries over."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
CV = 0.02
Family = Callable[[np.random.Generator, int, float], Floats]


def _gaussian(rng: np.random.Generator, n: int, cv: float) -> Floats:
    return 1 + cv * rng.standard_normal(n)


def _lognormal(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # a right-skewed shifted log-normal (shape 0.5, skewness 1.75), as timings are,
    # rescaled to the coefficient of variation
    shape = 0.5
    mean, sd = np.exp(shape**2 / 2), np.sqrt((np.exp(shape**2) - 1) * np.exp(shape**2))
    return 1 + cv * (rng.lognormal(0.0, shape, n) - mean) / sd


def _outliers(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # Gaussian noise, and 2% of points slowed down by 10-50% (a busy machine, a GC pause)
    values = _gaussian(rng, n, cv)
    hit = rng.random(n) < 0.02
    return np.where(hit, values * rng.uniform(1.1, 1.5, n), values)


def _two_modes(rng: np.random.Generator, n: int, cv: float, high: float, gap: float) -> Floats:
    # a mode `gap` (in units of cv) above the other, taken with probability `high`
    # (an algorithm chosen per process), and Gaussian noise within each mode
    spread = gap * cv
    within = float(np.sqrt(cv**2 - high * (1 - high) * spread**2))
    modes = np.where(rng.random(n) < 1 - high, -high * spread, (1 - high) * spread)
    return 1 + modes + within * rng.standard_normal(n)


def _bimodal(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # two modes 1.7 cv apart, half the runs in each
    return _two_modes(rng, n, cv, 0.5, 1.7)


def _ar1(rng: np.random.Generator, n: int, cv: float, rho: float = 0.5) -> Floats:
    shocks = cv * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    out = np.empty(n)
    previous = cv * rng.standard_normal()
    for i in range(n):
        previous = rho * previous + shocks[i]
        out[i] = previous
    return 1 + out


def _level_dependent(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # additive noise whose spread is cv of the level, on a level drawn over six orders of
    # magnitude: the detector must not care about units (`series` scales steps likewise)
    level = 10 ** rng.uniform(-6, 0)
    return level * (1 + cv * rng.standard_normal(n))


def _student_t3(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # Student's t with 3 degrees of freedom (infinite kurtosis), scaled to sd cv
    return 1 + cv * rng.standard_t(3, n) / np.sqrt(3)


def _ar1_strong(rng: np.random.Generator, n: int, cv: float) -> Floats:
    return _ar1(rng, n, cv, 0.8)


def _bimodal_skewed(rng: np.random.Generator, n: int, cv: float) -> Floats:
    # 15% of the runs in a mode 2.5 cv above the other
    return _two_modes(rng, n, cv, 0.15, 2.5)


# Gaussian noise read on a grid of 1.25 cv (a 40 µs benchmark on a 1 µs timer at a cv of
# 2%): about five distinct values, and many ties; `series` rounds after the step
QUANTUM = 1.25


FAMILIES: dict[str, Family] = {
    "gaussian": _gaussian,
    "lognormal": _lognormal,
    "outliers 2%": _outliers,
    "bimodal": _bimodal,
    "AR(1) 0.5": _ar1,
    "level-dependent": _level_dependent,
}
UNTUNED: dict[str, Family] = {
    "Student t3": _student_t3,
    "AR(1) 0.8": _ar1_strong,
    "bimodal 85/15": _bimodal_skewed,
    "quantised": _gaussian,
}
ALL = {**FAMILIES, **UNTUNED}


def series(
    family: str,
    seed: int,
    n: int = 200,
    step: float = 0.0,
    at: int = 100,
    direction: str = "lower",
    cv: float = CV,
) -> Floats:
    """A positive series of `n` values around 1 (or a random level), noise of `family` at
    coefficient of variation `cv`, with a step of `step` (a fraction, in the regression
    direction: up when lower is better) from index `at` on. A quantised series is
    quantised after the step, as a timer would read it."""
    rng = np.random.default_rng(seed)
    noise = ALL[family](rng, n, cv)
    factor = np.ones(n)
    if step:
        factor[at:] = 1 + step if direction == "lower" else 1 / (1 + step)
    values: Floats = np.maximum(noise, 0.05 * np.median(noise)) * factor
    if family == "quantised":  # the timer reads the slowed-down code on the same grid
        grid = QUANTUM * cv
        values = np.maximum(grid * np.round(values / grid), grid)
    return values
