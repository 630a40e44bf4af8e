"""Change points in a performance series: robust, autocorrelation-aware, incremental.

Method, on the logarithm of the values (a step is then a ratio, and variance that grows
with the level becomes constant):

1. The candidate split of the open segment is where two blocks fit best.
2. It is tested with a robust two-sample statistic (see `best_split`): winsorised
   values, the noise level and AR(1) autocorrelation learned from the block before,
   and the variance inflation of autocorrelated means for both block lengths.
3. The largest statistic is a change point when it exceeds `THRESHOLD` (with a
   small-sample correction), at least `MIN_AFTER` points follow it, at least
   `MIN_BEFORE` precede it, and its ratio exceeds a minimum practical effect.

The threshold is calibrated by replaying simulated series point by point (as CI does)
so that fewer than 1% of 200-point series of noise ever raise a false alert, across
Gaussian, log-normal, outlier, bimodal, AR(1) and level-dependent noise; see
suites/perfci/quality/. Assumptions: values are positive; the noise between changes is
stationary up to short-range (AR(1)-like) dependence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Direction = Literal["lower", "higher"]
Kind = Literal["regression", "improvement"]
Floats = NDArray[np.float64]

THRESHOLD = 4.5
CLIP = 3.0
MIN_AFTER = 3
MIN_BEFORE = 12
MIN_EFFECT = 0.01
FULL_AFTER = 5
SHORT_TAIL_PENALTY = 1.0
MAX_RHO = 0.9
RHO_PRIOR, RHO_PRIOR_WEIGHT = 0.5, 10.0
_MAD = 1.4826  # MAD → standard deviation for Gaussian data


class SeriesError(ValueError):
    """A series that cannot be analysed; the message is one line for the user."""


@dataclass(frozen=True)
class ChangePoint:
    """`index`: 0-based position of the first value after the change; `ratio`: typical
    value after over before (robust location estimates); `statistic`: the standardised
    difference that crossed the threshold."""

    index: int
    kind: Kind
    ratio: float
    statistic: float


@dataclass(frozen=True)
class Split:
    """The best single split of one segment and its evidence."""

    index: int
    statistic: float
    ratio: float
    noise: float  # standard deviation of log values (≈ coefficient of variation)
    rho: float  # lag-1 autocorrelation of the residuals


def validate(values: Sequence[float] | Floats, where: str = "series") -> Floats:
    """The values as a float array; SeriesError for non-finite or non-positive values."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise SeriesError(f"{where}: expected a flat list of numbers")
    bad = ~np.isfinite(array)
    if bad.any():
        raise SeriesError(f"{where}: value {int(np.argmax(bad)) + 1} is not a finite number")
    if (array <= 0).any():
        raise SeriesError(f"{where}: value {int(np.argmax(array <= 0)) + 1} is not positive")
    return array


def _robust_scale(y: Floats) -> float:
    """Noise level from differences at lags 1 and 3 (a step affects few of them); the
    larger one, since positive autocorrelation shrinks short-lag differences."""
    scales = [
        _MAD * float(np.median(np.abs(y[lag:] - y[:-lag]))) / math.sqrt(2)
        for lag in (1, 3)
        if len(y) > lag
    ]
    return max(scales) if scales else 0.0


def _block_inflation(lengths: Floats, rho: float) -> Floats:
    """Variance of the mean of m AR(1) values, in units of σ²/m:
    1 + 2·Σ_{j<m} (1 - j/m)·ρ^j, in closed form."""
    if rho <= 0:
        return np.ones_like(lengths)
    m = lengths
    geometric = rho * (1 - rho ** (m - 1)) / (1 - rho)  # Σ_{j=1}^{m-1} ρ^j
    weighted = rho * (1 - m * rho ** (m - 1) + (m - 1) * rho**m) / (1 - rho) ** 2  # Σ j ρ^j
    inflation: Floats = 1 + 2 * (geometric - weighted / m)
    return np.maximum(inflation, 1.0)


def _candidate(y: Floats, min_before: int) -> int:
    """Where a single change fits best: the largest between-block sum of squares of the
    values clipped around the segment's median (so a lone spike cannot pull the split)."""
    n = len(y)
    scale = _robust_scale(y) or float(np.std(y))
    w = np.clip(y, np.median(y) - CLIP * scale, np.median(y) + CLIP * scale)
    prefix = np.concatenate([[0.0], np.cumsum(w)])
    ks = np.arange(min_before, n - MIN_AFTER + 1)
    before, after = ks.astype(np.float64), (n - ks).astype(np.float64)
    diff = (prefix[-1] - prefix[ks]) / after - prefix[ks] / before
    return int(ks[int(np.argmax(diff**2 * before * after))])


def best_split(values: Sequence[float] | Floats, min_before: int = MIN_BEFORE) -> Split | None:
    """The most likely single change in the segment (positive values) and its evidence,
    or None when the segment is too short (fewer than `min_before` + `MIN_AFTER` points)
    or has no spread.

    The evidence is a two-sample test of the candidate split on values winsorised to
    within `CLIP` robust standard deviations of the median before it: outliers count as
    at most `CLIP` deviations on either side, and both blocks pass through the same
    bounded transform, so under no change their means agree whatever the noise's shape.
    The transformed values' variance and lag-1 autocorrelation (bias-corrected) come from
    the block before; the variance of each block's mean uses the AR(1) inflation for its
    length.
    """
    y = np.log(np.asarray(values, dtype=np.float64))
    n = len(y)
    if n < min_before + MIN_AFTER:
        return None
    k = _candidate(y, min_before)
    head, tail = y[:k], y[k:]
    center = float(np.median(head))
    scale = max(_MAD * float(np.median(np.abs(head - center))), _robust_scale(head))
    if scale <= 0:
        return None
    low, high = center - CLIP * scale, center + CLIP * scale
    g_head, g_tail = np.clip(head, low, high), np.clip(tail, low, high)
    resid = g_head - g_head.mean()
    ss = float(np.sum(resid**2))
    if ss <= 0:
        return None
    sigma = math.sqrt(ss / (k - 1))
    rho = float(np.sum(resid[1:] * resid[:-1]) / ss)
    rho += (1 + 3 * rho) / k  # Kendall's small-sample bias correction
    # a short block cannot tell smooth AR(1) noise from white noise: lean on a prior
    rho = (k * rho + RHO_PRIOR_WEIGHT * RHO_PRIOR) / (k + RHO_PRIOR_WEIGHT)
    rho = min(max(rho, 0.0), MAX_RHO)
    lengths = np.array([k, n - k], dtype=np.float64)
    var = sigma**2 * float(np.sum(_block_inflation(lengths, rho) / lengths))
    statistic = (float(g_tail.mean()) - float(g_head.mean())) / math.sqrt(var)
    ratio = math.exp(float(np.median(tail)) - center)
    return Split(k, statistic, ratio, sigma, rho)


def threshold(before: int, after: int) -> float:
    """The statistic a change must reach: `THRESHOLD` turned into Student's t with the
    block before's degrees of freedom (its noise level is estimated; Cornish-Fisher
    first-order term), plus `SHORT_TAIL_PENALTY` while fewer than `FULL_AFTER` values
    follow the split (each new value opens a fresh, nearly independent look)."""
    h = THRESHOLD
    h += (h**3 + h) / (4 * max(before - 1, 1))
    return h + (SHORT_TAIL_PENALTY if after < FULL_AFTER else 0.0)


def _kind(ratio: float, direction: Direction) -> Kind:
    worse = ratio > 1 if direction == "lower" else ratio < 1
    return "regression" if worse else "improvement"


def check_tail(
    values: Sequence[float] | Floats,
    start: int,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    window: int = 400,
) -> ChangePoint | None:
    """The incremental check CI makes after each new value: is there a change in the open
    segment, values[start:] (since the last change point), looking back at most `window`
    values? Returns it with its absolute index, or None."""
    y = np.asarray(values, dtype=np.float64)
    lo = max(start, len(y) - window)
    split = best_split(y[lo:])
    if split is None:
        return None
    if abs(split.statistic) < threshold(split.index, len(y) - lo - split.index):
        return None
    if abs(math.log(split.ratio)) < math.log1p(min_effect):
        return None
    if (split.ratio > 1) != (split.statistic > 0):  # location and mean disagree: too unclear
        return None
    return ChangePoint(
        lo + split.index, _kind(split.ratio, direction), split.ratio, split.statistic
    )


def replay(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    start_at: int = 0,
) -> list[ChangePoint]:
    """Change points found by checking the tail after each new value, as CI does run by
    run: a change, once found, is kept and the next segment starts at it."""
    y = validate(values)
    found: list[ChangePoint] = []
    start = 0
    for end in range(max(start_at, MIN_BEFORE + MIN_AFTER), len(y) + 1):
        change = check_tail(y[:end], start, direction, min_effect)
        if change is not None:
            found.append(change)
            start = change.index
    return found


def detect(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
) -> list[ChangePoint]:
    """All change points of a whole series at once, by binary segmentation with the same
    statistic and threshold as `check_tail` (fewer looks than a replay, so no more false
    alerts). SeriesError for values that are not finite and positive."""
    y = validate(values)
    found: list[ChangePoint] = []
    stack = [(0, len(y))]
    while stack:
        lo, hi = stack.pop()
        split = best_split(y[lo:hi])
        if split is None or abs(split.statistic) < threshold(split.index, hi - lo - split.index):
            continue
        index = lo + split.index
        stack += [(lo, index), (index, hi)]
        if abs(math.log(split.ratio)) < math.log1p(min_effect):
            continue
        if (split.ratio > 1) != (split.statistic > 0):
            continue
        found.append(
            ChangePoint(index, _kind(split.ratio, direction), split.ratio, split.statistic)
        )
    return sorted(found, key=lambda c: c.index)
