"""The split scan of one segment of log values: every admissible split at once, in O(n)
from prefix sums, each with its statistic (the difference of the blocks' means over its
standard error, the noise and the lag-1 autocorrelation taken from within the blocks)
and its threshold; and the strongest split, placed where a step fits best. Steps 1-3 of
the method in `perfci.stats.changepoint`, whose notes give the reasons."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfci.stats.segments import (
    CLIP,
    FULL_AFTER,
    IMPROVEMENT_MARGIN,
    LOCAL,
    MAD,
    MAX_RHO,
    MIN_AFTER,
    MIN_BEFORE,
    RHO_UNCERTAINTY,
    SHORT_TAIL_PENALTY,
    THRESHOLD,
    Cuts,
    Direction,
    Floats,
    admissible_splits,
    cuts_of,
)


@dataclass(frozen=True)
class Split:
    """The strongest single split of one segment and its evidence."""

    index: int
    statistic: float
    threshold: float  # what |statistic| must reach at this split
    ratio: float  # median after over median before
    noise: float  # standard deviation of log values (≈ coefficient of variation)
    rho: float  # lag-1 autocorrelation used for the standard error

    @property
    def significant(self) -> bool:
        return abs(self.statistic) >= self.threshold


def robust_scale(y: Floats) -> float:
    """Noise level from differences at lags 1 and 3 (a step affects few of them); the
    larger one, since positive autocorrelation shrinks short-lag differences."""
    scales = [
        MAD * float(np.median(np.abs(y[lag:] - y[:-lag]))) / math.sqrt(2)
        for lag in (1, 3)
        if len(y) > lag
    ]
    return max(scales) if scales else 0.0


def local_level(y: Floats) -> Floats:
    """Each value's local level: the median of the `LOCAL` values nearest to it (the
    window shifted inward at the ends). A step moves it at the step itself; one outlier,
    or two side by side, do not move it."""
    if len(y) < LOCAL:
        return np.full(len(y), float(np.median(y)))
    half = LOCAL // 2
    medians = np.median(np.lib.stride_tricks.sliding_window_view(y, LOCAL), axis=1)
    return np.concatenate([np.full(half, medians[0]), medians, np.full(half, medians[-1])])


def winsorise(y: Floats, scale: float) -> Floats:
    """y winsorised at `CLIP`·scale around the segment's median, or, where a value's
    local level lies more than 2·`CLIP`·scale from the median, around the point that far
    from its local level on the median's side (see the method's notes)."""
    level = local_level(y)
    far = 2 * CLIP * scale
    center = np.clip(float(np.median(y)), level - far, level + far)
    clipped: Floats = np.clip(y, center - CLIP * scale, center + CLIP * scale)
    return clipped


def block_inflation(lengths: Floats, rho: Floats | float) -> Floats:
    """Variance of the mean of m AR(1) values, in units of σ²/m:
    1 + 2·Σ_{j<m} (1 - j/m)·ρ^j, in closed form (elementwise in m and ρ)."""
    m = lengths
    r = np.clip(np.asarray(rho, dtype=np.float64), 1e-12, MAX_RHO)
    geometric = r * (1 - r ** (m - 1)) / (1 - r)  # Σ_{j=1}^{m-1} ρ^j
    weighted = r * (1 - m * r ** (m - 1) + (m - 1) * r**m) / (1 - r) ** 2  # Σ j ρ^j
    inflation: Floats = np.maximum(1 + 2 * (geometric - weighted / m), 1.0)
    return inflation


@dataclass(frozen=True)
class BlockMoments:
    """For each split k of w: block A is w[:k], block B is w[k:]. Means, B's mean minus
    A's (`shift`), sums of squares around the block's own mean, and sums of products of
    neighbours inside the block (Σ (w_i - mean)(w_{i+1} - mean), pairs that straddle the
    split left out)."""

    mean_before: Floats
    mean_after: Floats
    shift: Floats
    ss_before: Floats
    ss_after: Floats
    cross_before: Floats
    cross_after: Floats


class PrefixSums:
    """Running sums of v, v² and v_i·v_{i+1}, v being w less its mean, from which every
    split's block moments come in O(1): the scan's speed. They are taken around the mean
    so that a level far from zero (the log of nanoseconds, or of millions of items a
    second) does not cancel the sums of squares down to their last digits."""

    def __init__(self, w: Floats) -> None:
        self.n = len(w)
        self.center = float(np.mean(w)) if len(w) else 0.0
        self.v = v = w - self.center
        self.s1 = np.concatenate([[0.0], np.cumsum(v)])
        self.s2 = np.concatenate([[0.0], np.cumsum(v * v)])
        # lag[j] = Σ_{i<j} v_i·v_{i+1}
        self.lag = np.concatenate([[0.0], np.cumsum(v[:-1] * v[1:])])

    def _means(self, ks: NDArray[np.int64]) -> tuple[Floats, Floats]:
        """The means of v[:k] and v[k:] for each split k (0 < k < n)."""
        s1, n = self.s1, self.n
        k, m = ks.astype(np.float64), (n - ks).astype(np.float64)
        return s1[ks] / k, (s1[n] - s1[ks]) / m

    def shifts(self, ks: NDArray[np.int64]) -> Floats:
        """The mean of w[k:] minus the mean of w[:k], for each split k (0 < k < n)."""
        before, after = self._means(ks)
        shift: Floats = after - before
        return shift

    def moments(self, ks: NDArray[np.int64]) -> BlockMoments:
        """`BlockMoments` at each split k (0 < k < n)."""
        s1, s2, lag, n = self.s1, self.s2, self.lag, self.n
        k, m = ks.astype(np.float64), (n - ks).astype(np.float64)
        mean1, mean2 = self._means(ks)
        ss1 = s2[ks] - s1[ks] * mean1
        ss2 = (s2[n] - s2[ks]) - (s1[n] - s1[ks]) * mean2
        cross1 = lag[ks - 1] - mean1 * (s1[ks - 1] + s1[ks] - self.v[0]) + (k - 1) * mean1**2
        cross2 = (
            (lag[n - 1] - lag[ks])
            - mean2 * ((s1[n - 1] - s1[ks]) + (s1[n] - s1[ks + 1]))
            + (m - 1) * mean2**2
        )
        c = self.center
        return BlockMoments(c + mean1, c + mean2, mean2 - mean1, ss1, ss2, cross1, cross2)


def pooled_spread(d: Floats, ks: NDArray[np.int64], lag: int) -> Floats:
    """For lag-`lag` differences d of a segment (d[i] = y[i+lag] - y[i]) and each split k
    of the segment: the pooled within-block variance of the differences that do not
    straddle k, d[:k-lag] and d[k:], each around its own mean (prefix sums)."""
    p = np.concatenate([[0.0], np.cumsum(d)])
    q = np.concatenate([[0.0], np.cumsum(d * d)])
    a, e = ks - lag, len(d)  # block A: d[:a], block B: d[b:]
    b = np.minimum(ks, e)
    count = e - b
    ss_a = q[a] - p[a] ** 2 / a
    ss_b = (q[e] - q[b]) - (p[e] - p[b]) ** 2 / np.maximum(count, 1)
    spread: Floats = (ss_a + ss_b) / (a + count - 1 - (count > 0))
    return spread


def difference_rho(y: Floats, splits: NDArray[np.int64]) -> Floats:
    """ρ at each split from the spreads of lag-1 and lag-2 differences inside the blocks
    (those that straddle the split left out, each block's mean difference taken off): for
    AR(1) noise their variances are 2σ²(1-ρ) and 2σ²(1-ρ²), so ρ = s₂²/s₁² - 1. A step
    at the split moves none of them, nor does a mean that drifts steadily within a
    block; and unlike residuals around the blocks' means, an excursion of the noise that
    the split happens to fit still shows in them. The differences of both lags are
    winsorised at one level, `CLIP` robust standard deviations of the lag-1 differences,
    so that an outlier (it moves two of each) weighs the same in both; the values are
    not: clipping them would flatten the excursions of strongly autocorrelated noise."""
    n = len(y)
    if n < 8:
        return np.zeros(len(splits))

    d1 = y[1:] - y[:-1]
    clip = CLIP * MAD * float(np.median(np.abs(d1 - np.median(d1))))

    def spread(d: Floats, lag: int) -> Floats:
        center = float(np.median(d))
        if clip > 0:
            d = np.clip(d, center - clip, center + clip)
        return pooled_spread(d, splits, lag)

    s1 = spread(y[1:] - y[:-1], 1)
    s2 = spread(y[2:] - y[:-2], 2)
    ratio = np.divide(s2, s1, out=np.ones(len(splits)), where=s1 > 0)
    rho: Floats = np.clip(ratio - 1, 0.0, MAX_RHO)
    return rho


def rho_bounds(y: Floats, splits: NDArray[np.int64]) -> tuple[Floats, Floats]:
    """The range the residual ρ̂ of each split is held to: no lower than the differences'
    estimate (a split must not explain ρ away), and no higher than that estimate plus
    two of its standard errors, √(2(1+ρ)/n) (a mean that moves within a block, as in a
    drift, inflates residual autocorrelation; the differences do not see it)."""
    low = difference_rho(y, splits)
    high = np.minimum(low + 2 * np.sqrt(2 * (1 + low) / len(y)), MAX_RHO)
    return low, high


@dataclass(frozen=True)
class Scan:
    splits: NDArray[np.int64]
    statistic: Floats
    factor: Floats  # threshold multiplier for the estimates' uncertainty
    penalty: Floats  # added while the tail is short
    noise: Floats
    rho: Floats
    shift: Floats  # mean after minus mean before
    fit: Floats  # between-block sum of squares: the least-squares fit of a step at k
    recent_shift: Floats  # the same two for the splits with fewer than MIN_AFTER after
    recent_fit: Floats


def scan(y: Floats, exact: bool = True, cuts: Cuts | None = None) -> Scan | None:
    """The statistic and threshold terms of every admissible split of y (log values).
    With `exact` False, None comes back when no split passes its threshold: the fast
    path of a check that only needs the answer."""
    n = len(y)
    ks = admissible_splits(n, cuts)
    if len(ks) == 0:
        return None
    scale = robust_scale(y) or float(np.std(y))
    if scale <= 0:
        return None
    sums = PrefixSums(winsorise(y, scale))
    k, m = ks.astype(np.float64), (n - ks).astype(np.float64)
    b = sums.moments(ks)
    ss = np.maximum(b.ss_before + b.ss_after, np.finfo(np.float64).tiny)
    noise = np.sqrt(ss / (n - 2))
    rho = (b.cross_before + b.cross_after) / ss
    rho = np.clip(rho + 2 * (1 + 3 * rho) / n, 0.0, MAX_RHO)  # Kendall's bias, two means
    rho = np.clip(rho, *rho_bounds(y, ks))
    # the standard error at ρ̂ plus `RHO_UNCERTAINTY` of its standard errors √((1-ρ²)/n):
    # the chance that ρ is larger than estimated (never above the cap)
    rho_se = np.sqrt(np.maximum(1 - rho**2, 0.05) / (n - 2))
    rho_high = np.minimum(rho + RHO_UNCERTAINTY * rho_se, MAX_RHO)
    variance = block_inflation(k, rho_high) / k + block_inflation(m, rho_high) / m
    statistic = b.shift / (noise * np.sqrt(variance))
    penalty = np.where(m < FULL_AFTER, SHORT_TAIL_PENALTY, 0.0)
    factor = np.full(len(ks), 1 + THRESHOLD**2 / (4 * (n - 2)))  # σ̂'s uncertainty
    if not exact and not (np.abs(statistic) >= THRESHOLD * factor + penalty).any():
        return None
    shift = b.shift
    recent = np.arange(max(MIN_BEFORE, n - MIN_AFTER + 1), n)
    if cuts is not None:
        recent = recent[cuts[recent]]
    rk, rm = recent.astype(np.float64), (n - recent).astype(np.float64)
    recent_shift = sums.shifts(recent)
    recent_fit = recent_shift**2 * rk * rm / n
    fit = shift**2 * k * m / n
    return Scan(ks, statistic, factor, penalty, noise, rho, shift, fit, recent_shift, recent_fit)


def worse_sign(direction: Direction) -> int:
    """The sign of the statistic for a regression: log values up when lower is better."""
    return 1 if direction == "lower" else -1


def best_split(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    groups: Sequence[object] | None = None,
) -> Split | None:
    """The split of the segment (positive values) with the largest excess of its statistic
    over its threshold, placed where the fit is best on that side of zero; None when the
    segment is too short (fewer than `MIN_BEFORE` + `MIN_AFTER` values) or has no spread.
    With `groups` (each value's commit), only splits between groups count."""
    y = np.log(np.asarray(values, dtype=np.float64))
    return strongest_split(y, direction, exact=True, cuts=cuts_of(groups, len(y)))


def strongest_split(
    y: Floats, direction: Direction, exact: bool, cuts: Cuts | None = None
) -> Split | None:
    """`best_split` of log values y; with `exact` False, None as soon as no split of y
    can pass its threshold."""
    found = scan(y, exact, cuts)
    if found is None:
        return None
    worse = np.sign(found.statistic) == worse_sign(direction)
    base = np.where(worse, THRESHOLD, THRESHOLD + IMPROVEMENT_MARGIN)
    thresholds = base * found.factor + found.penalty
    strongest = int(np.argmax(np.abs(found.statistic) - thresholds))
    same_side = np.sign(found.shift) == np.sign(found.shift[strongest])
    i = int(np.argmax(np.where(same_side, found.fit, -1.0)))  # least-squares location
    if (
        abs(found.statistic[i]) - thresholds[i]
        < 0
        <= abs(found.statistic[strongest]) - thresholds[strongest]
    ):
        i = strongest  # the best fit is not itself significant: keep the significant one
    recent = np.sign(found.recent_shift) == np.sign(found.shift[i])
    if (found.recent_fit[recent] > found.fit[i]).any():
        return None  # a step fits best where too few values follow it yet: too soon to place
    k = int(found.splits[i])
    ratio = math.exp(float(np.median(y[k:]) - np.median(y[:k])))
    return Split(
        k,
        float(found.statistic[i]),
        float(thresholds[i]),
        ratio,
        float(found.noise[i]),
        float(found.rho[i]),
    )
