"""Synthetic performance series for the quality evaluation: seeded noise families with a
coefficient of variation of 2%, and steps in the regression direction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
CV = 0.02


def _gaussian(rng: np.random.Generator, n: int) -> Floats:
    return 1 + CV * rng.standard_normal(n)


def _lognormal(rng: np.random.Generator, n: int) -> Floats:
    # a right-skewed shifted log-normal (shape 0.5, skewness 1.75), as timings are,
    # rescaled to a 2% standard deviation
    shape = 0.5
    mean, sd = np.exp(shape**2 / 2), np.sqrt((np.exp(shape**2) - 1) * np.exp(shape**2))
    return 1 + CV * (rng.lognormal(0.0, shape, n) - mean) / sd


def _outliers(rng: np.random.Generator, n: int) -> Floats:
    # Gaussian 2%, and 2% of points slowed down by 10-50% (a busy machine, a GC pause)
    values = _gaussian(rng, n)
    hit = rng.random(n) < 0.02
    return np.where(hit, values * rng.uniform(1.1, 1.5, n), values)


def _bimodal(rng: np.random.Generator, n: int) -> Floats:
    # two modes 3.4% apart (an algorithm chosen per process), picked at random each run
    gap, within = 0.017, float(np.sqrt(CV**2 - 0.017**2))
    return 1 + np.where(rng.random(n) < 0.5, -gap, gap) + within * rng.standard_normal(n)


def _ar1(rng: np.random.Generator, n: int) -> Floats:
    rho = 0.5
    shocks = CV * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    out = np.empty(n)
    previous = CV * rng.standard_normal()
    for i in range(n):
        previous = rho * previous + shocks[i]
        out[i] = previous
    return 1 + out


def _level_dependent(rng: np.random.Generator, n: int) -> Floats:
    # additive noise whose spread is 2% of the level, on a level drawn over six orders of
    # magnitude: the detector must not care about units (`series` scales steps likewise)
    level = 10 ** rng.uniform(-6, 0)
    return level * (1 + CV * rng.standard_normal(n))


FAMILIES: dict[str, Callable[[np.random.Generator, int], Floats]] = {
    "gaussian": _gaussian,
    "lognormal": _lognormal,
    "outliers 2%": _outliers,
    "bimodal": _bimodal,
    "AR(1) 0.5": _ar1,
    "level-dependent": _level_dependent,
}


def series(
    family: str,
    seed: int,
    n: int = 200,
    step: float = 0.0,
    at: int = 100,
    direction: str = "lower",
) -> Floats:
    """A positive series of `n` values around 1 (or `level`), with a step of `step` (a
    fraction, in the regression direction) from index `at` on."""
    rng = np.random.default_rng(seed)
    noise = FAMILIES[family](rng, n)
    factor = np.ones(n)
    if step:
        factor[at:] = 1 + step if direction == "lower" else 1 / (1 + step)
    values: Floats = np.maximum(noise, 0.05 * np.median(noise)) * factor
    return values
