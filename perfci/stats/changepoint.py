"""Change points in a performance series: robust, autocorrelation-aware, incremental.

Method, on the logarithm of the values (a step is then a ratio, and variance that grows
with the level becomes constant), with σ̂ₛ the robust noise level of the segment (MAD of
lag-1 and lag-3 differences, which a step moves only once or thrice):

1. Winsorise: a value further than `CLIP`·σ̂ₛ from the segment's median counts as that
   far (a GC pause or a busy machine weighs at most `CLIP`), unless its neighbourhood's
   level (the median of the `LOCAL` values nearest to it) lies more than 2·`CLIP`·σ̂ₛ
   from the median: clip ranges that far apart do not overlap, so that level is a level
   of its own (a step), not outliers, and the clip range follows it, staying 2·`CLIP`·σ̂ₛ
   from it on the median's side. A large step is therefore not clipped down to `CLIP`
   (its statistic grows with it), while a few outlying values together (a mode taken a
   few runs in a row) are still clipped as outliers.
2. Scan every split k of the open segment at once (prefix sums, O(n)): the difference of
   the two blocks' means over its standard error. The noise level and the lag-1
   autocorrelation ρ come from the residuals within both blocks (ρ bias-corrected), so
   a step at the split inflates neither, and each block mean's variance carries the
   AR(1) inflation for its length. ρ is held between its estimate from the lag-1 and
   lag-2 differences inside the blocks (those straddling the split left out, each
   block's mean difference taken off, both lags winsorised at one level) and that
   estimate plus two of its standard errors: no split can explain ρ away by
   fitting an excursion of the noise, and a drift within a block, which inflates
   residual autocorrelation, cannot push ρ to its cap.
   For the uncertainty of ρ̂ the standard error is taken at ρ̂ plus `RHO_UNCERTAINTY`
   of its standard errors √((1-ρ²)/n), never above the cap `MAX_RHO`: bounded however
   short the segment, and growing with ρ̂ up to the cap.
3. Each split has its own threshold: `THRESHOLD` (or `THRESHOLD + IMPROVEMENT_MARGIN` for
   a change in the good direction), raised for the uncertainty of the estimated noise
   level (Student's t, first Cornish-Fisher term), plus `SHORT_TAIL_PENALTY` while fewer
   than `FULL_AFTER` values follow the split.
   A change point is the split with the largest excess over its threshold; it is placed
   where a step fits best (least squares) on that side, and must move the blocks'
   medians by at least a minimum practical effect, the same way. When a step would fit
   better still where fewer than `MIN_AFTER` values follow it (the newest values have
   begun to change), nothing is called until they do: the change is not placed early.
4. With groups (each value's commit: several runs of one commit), a split lies only
   between groups: a change is a commit's doing.

A regression needs less evidence than an improvement: a missed regression costs a team
more than an improvement reported a few runs late.

Shape: a slow drift also crosses the threshold somewhere, and blaming the commit where
the accumulated change happened to cross it would be wrong. So each change found is
also fitted as a straight line over its segment; when the line fits about as well as the
step (residual sum of squares within `DRIFT_PENALTY`·log(n)·σ²·(1+ρ)/(1-ρ) of the
step's: a penalty for the step's searched location, in units of the noise's long-run
variance, ρ from the differences as above), the change is a `drift` over the segment's
values, not a step at one commit. A drift that goes on is found again in the segment it
opened: it is then one drift, grown, rather than a staircase of changes.

A change needs `MIN_BEFORE` values of its segment before it and `MIN_AFTER` after;
`coverage` says which indices of a series could be judged and how many more values the
open segment needs.

Calibrated by replaying simulated series point by point (as CI does) so that at most 1%
of 200-point series of noise ever raise a false alert, across Gaussian, log-normal,
outlier, bimodal, AR(1) ρ 0.5 and level-dependent noise, and checked on families not
used for calibration (Student t with 3 degrees of freedom, AR(1) ρ 0.8, an 85/15 bimodal,
values on a coarse timer grid) and on short histories; see suites/perfci/quality/ and
QUALITY.md. Assumptions: values are positive; the noise between changes is stationary
up to short-range (AR(1)-like) dependence; strongly autocorrelated noise in a short
segment (AR(1) ρ 0.8 over 30-40 values) cannot always be told from a step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Direction = Literal["lower", "higher"]
Kind = Literal["regression", "improvement"]
Shape = Literal["step", "drift"]
Floats = NDArray[np.float64]

THRESHOLD = 3.9
IMPROVEMENT_MARGIN = 0.5
RHO_UNCERTAINTY = 2.5  # standard errors of ρ̂ added before the standard error is taken
CLIP = 3.0
LOCAL = 5  # values whose median is a value's local level, for winsorising
MIN_AFTER = 3
MIN_BEFORE = 12
MIN_EFFECT = 0.01
FULL_AFTER = 5
SHORT_TAIL_PENALTY = 1.0
MAX_RHO = 0.9
WINDOW = 400
DRIFT_PENALTY = 1.0
_MAD = 1.4826  # MAD → standard deviation for Gaussian data


class SeriesError(ValueError):
    """A series that cannot be analysed; the message is one line for the user."""


@dataclass(frozen=True)
class ChangePoint:
    """`index`: 0-based position of the first value after the change; `ratio`: typical
    value after over before (medians); `statistic`: the standardised difference of the
    means (positive: values went up); `shape`: `step`, or `drift` when the values moved
    gradually over the segment from `start` (its first index) to the newest value seen."""

    index: int
    kind: Kind
    ratio: float
    statistic: float
    shape: Shape = "step"
    start: int = 0


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


def _local_level(y: Floats) -> Floats:
    """Each value's local level: the median of the `LOCAL` values nearest to it (the
    window shifted inward at the ends). A step moves it at the step itself; one outlier,
    or two side by side, do not move it."""
    if len(y) < LOCAL:
        return np.full(len(y), float(np.median(y)))
    half = LOCAL // 2
    medians = np.median(np.lib.stride_tricks.sliding_window_view(y, LOCAL), axis=1)
    return np.concatenate([np.full(half, medians[0]), medians, np.full(half, medians[-1])])


def _winsorise(y: Floats, scale: float) -> Floats:
    """y winsorised at `CLIP`·scale around the segment's median, or, where a value's
    local level lies more than 2·`CLIP`·scale from the median, around the point that far
    from its local level on the median's side (see the module's notes)."""
    level = _local_level(y)
    far = 2 * CLIP * scale
    center = np.clip(float(np.median(y)), level - far, level + far)
    clipped: Floats = np.clip(y, center - CLIP * scale, center + CLIP * scale)
    return clipped


def _block_inflation(lengths: Floats, rho: Floats | float) -> Floats:
    """Variance of the mean of m AR(1) values, in units of σ²/m:
    1 + 2·Σ_{j<m} (1 - j/m)·ρ^j, in closed form (elementwise in m and ρ)."""
    m = lengths
    r = np.clip(np.asarray(rho, dtype=np.float64), 1e-12, MAX_RHO)
    geometric = r * (1 - r ** (m - 1)) / (1 - r)  # Σ_{j=1}^{m-1} ρ^j
    weighted = r * (1 - m * r ** (m - 1) + (m - 1) * r**m) / (1 - r) ** 2  # Σ j ρ^j
    inflation: Floats = np.maximum(1 + 2 * (geometric - weighted / m), 1.0)
    return inflation


def _difference_rho(y: Floats, splits: NDArray[np.int64]) -> Floats:
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
    k = splits

    d1 = y[1:] - y[:-1]
    clip = CLIP * _MAD * float(np.median(np.abs(d1 - np.median(d1))))

    def spread(d: Floats, lag: int) -> Floats:  # pooled within-block variance of d
        center = float(np.median(d))
        if clip > 0:
            d = np.clip(d, center - clip, center + clip)
        p = np.concatenate([[0.0], np.cumsum(d)])
        q = np.concatenate([[0.0], np.cumsum(d * d)])
        a, e = k - lag, len(d)  # block A: d[:a], block B: d[b:]
        b = np.minimum(k, e)
        count = e - b
        ss_a = q[a] - p[a] ** 2 / a
        ss_b = (q[e] - q[b]) - (p[e] - p[b]) ** 2 / np.maximum(count, 1)
        spread: Floats = (ss_a + ss_b) / (a + count - 1 - (count > 0))
        return spread

    s1 = spread(y[1:] - y[:-1], 1)
    s2 = spread(y[2:] - y[:-2], 2)
    ratio = np.divide(s2, s1, out=np.ones(len(splits)), where=s1 > 0)
    rho: Floats = np.clip(ratio - 1, 0.0, MAX_RHO)
    return rho


def _rho_bounds(y: Floats, splits: NDArray[np.int64]) -> tuple[Floats, Floats]:
    """The range the residual ρ̂ of each split is held to: no lower than the differences'
    estimate (a split must not explain ρ away), and no higher than that estimate plus
    two of its standard errors, √(2(1+ρ)/n) (a mean that moves within a block, as in a
    drift, inflates residual autocorrelation; the differences do not see it)."""
    low = _difference_rho(y, splits)
    high = np.minimum(low + 2 * np.sqrt(2 * (1 + low) / len(y)), MAX_RHO)
    return low, high


def cuts_of(groups: Sequence[object] | None, n: int) -> NDArray[np.bool_] | None:
    """Where a change may lie, from each value's group (its commit): `cuts[k]` is False
    when values k-1 and k belong to one group (two runs of one commit), True otherwise;
    an empty or None group is a group of its own. None for no groups: any split."""
    if groups is None:
        return None
    if len(groups) != n:
        raise SeriesError(f"series: {len(groups)} groups for {n} values")
    return _cuts(groups)


def _cuts(groups: Sequence[object]) -> NDArray[np.bool_]:
    cuts = np.ones(len(groups) + 1, dtype=np.bool_)
    for k in range(1, len(groups)):
        same = groups[k] == groups[k - 1]
        cuts[k] = not same or groups[k] is None or groups[k] == ""
    return cuts


def _splits(n: int, cuts: NDArray[np.bool_] | None) -> NDArray[np.int64]:
    """The admissible splits of n values: `MIN_BEFORE` before, `MIN_AFTER` after, and a
    change between groups."""
    ks = np.arange(MIN_BEFORE, n - MIN_AFTER + 1)
    return ks if cuts is None else ks[cuts[ks]]


@dataclass(frozen=True)
class _Scan:
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


def _scan(y: Floats, exact: bool = True, cuts: NDArray[np.bool_] | None = None) -> _Scan | None:
    """The statistic and threshold terms of every admissible split of y (log values).
    With `exact` False, None comes back when no split passes its threshold: the fast
    path of a check that only needs the answer."""
    n = len(y)
    ks = _splits(n, cuts)
    if len(ks) == 0:
        return None
    scale = _robust_scale(y) or float(np.std(y))
    if scale <= 0:
        return None
    w = _winsorise(y, scale)
    s1 = np.concatenate([[0.0], np.cumsum(w)])
    s2 = np.concatenate([[0.0], np.cumsum(w * w)])
    lag = np.concatenate([[0.0], np.cumsum(w[:-1] * w[1:])])  # lag[j] = Σ_{i<j} w_i·w_{i+1}
    k, m = ks.astype(np.float64), (n - ks).astype(np.float64)
    mean1, mean2 = s1[ks] / k, (s1[n] - s1[ks]) / m
    ss1 = s2[ks] - s1[ks] * mean1
    ss2 = (s2[n] - s2[ks]) - (s1[n] - s1[ks]) * mean2
    # Σ (w_i - mean)(w_{i+1} - mean) over neighbours inside each block
    cross1 = lag[ks - 1] - mean1 * (s1[ks - 1] + s1[ks] - w[0]) + (k - 1) * mean1**2
    cross2 = (
        (lag[n - 1] - lag[ks])
        - mean2 * ((s1[n - 1] - s1[ks]) + (s1[n] - s1[ks + 1]))
        + (m - 1) * mean2**2
    )
    ss = np.maximum(ss1 + ss2, np.finfo(np.float64).tiny)
    noise = np.sqrt(ss / (n - 2))
    rho = (cross1 + cross2) / ss
    rho = np.clip(rho + 2 * (1 + 3 * rho) / n, 0.0, MAX_RHO)  # Kendall's bias, two means
    rho = np.clip(rho, *_rho_bounds(y, ks))
    # the standard error at ρ̂ plus `RHO_UNCERTAINTY` of its standard errors √((1-ρ²)/n):
    # the chance that ρ is larger than estimated (never above the cap)
    rho_se = np.sqrt(np.maximum(1 - rho**2, 0.05) / (n - 2))
    rho_high = np.minimum(rho + RHO_UNCERTAINTY * rho_se, MAX_RHO)
    variance = _block_inflation(k, rho_high) / k + _block_inflation(m, rho_high) / m
    statistic = (mean2 - mean1) / (noise * np.sqrt(variance))
    penalty = np.where(m < FULL_AFTER, SHORT_TAIL_PENALTY, 0.0)
    factor = np.full(len(ks), 1 + THRESHOLD**2 / (4 * (n - 2)))  # σ̂'s uncertainty
    if not exact and not (np.abs(statistic) >= THRESHOLD * factor + penalty).any():
        return None
    shift = mean2 - mean1
    recent = np.arange(max(MIN_BEFORE, n - MIN_AFTER + 1), n)
    if cuts is not None:
        recent = recent[cuts[recent]]
    rk, rm = recent.astype(np.float64), (n - recent).astype(np.float64)
    recent_shift = (s1[n] - s1[recent]) / rm - s1[recent] / rk
    recent_fit = recent_shift**2 * rk * rm / n
    fit = shift**2 * k * m / n
    return _Scan(ks, statistic, factor, penalty, noise, rho, shift, fit, recent_shift, recent_fit)


def _worse_sign(direction: Direction) -> int:
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
    return _best_split(y, direction, exact=True, cuts=cuts_of(groups, len(y)))


def _best_split(
    y: Floats, direction: Direction, exact: bool, cuts: NDArray[np.bool_] | None = None
) -> Split | None:
    scan = _scan(y, exact, cuts)
    if scan is None:
        return None
    worse = np.sign(scan.statistic) == _worse_sign(direction)
    base = np.where(worse, THRESHOLD, THRESHOLD + IMPROVEMENT_MARGIN)
    thresholds = base * scan.factor + scan.penalty
    strongest = int(np.argmax(np.abs(scan.statistic) - thresholds))
    same_side = np.sign(scan.shift) == np.sign(scan.shift[strongest])
    i = int(np.argmax(np.where(same_side, scan.fit, -1.0)))  # least-squares location
    if (
        abs(scan.statistic[i]) - thresholds[i]
        < 0
        <= abs(scan.statistic[strongest]) - thresholds[strongest]
    ):
        i = strongest  # the best fit is not itself significant: keep the significant one
    recent = np.sign(scan.recent_shift) == np.sign(scan.shift[i])
    if (scan.recent_fit[recent] > scan.fit[i]).any():
        return None  # a step fits best where too few values follow it yet: too soon to place
    k = int(scan.splits[i])
    ratio = math.exp(float(np.median(y[k:]) - np.median(y[:k])))
    return Split(
        k,
        float(scan.statistic[i]),
        float(thresholds[i]),
        ratio,
        float(scan.noise[i]),
        float(scan.rho[i]),
    )


def _kind(ratio: float, direction: Direction) -> Kind:
    worse = ratio > 1 if direction == "lower" else ratio < 1
    return "regression" if worse else "improvement"


def _accept(split: Split | None, min_effect: float) -> bool:
    """Significant, large enough to matter, and medians agree with means on the way."""
    if split is None or not split.significant:
        return False
    if abs(math.log(split.ratio)) < math.log1p(min_effect):
        return False
    return (split.ratio > 1) == (split.statistic > 0)


def shape_of(y: Floats, index: int) -> Shape:
    """`drift` when a straight line through the segment's log values `y` fits about as
    well as a step at `index` (see the module's notes), else `step`."""
    n = len(y)
    noise = _robust_scale(y)
    if noise <= 0:
        return "step"
    before, after = y[:index], y[index:]
    step = np.concatenate([before - np.median(before), after - np.median(after)])
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2
    half = n // 2  # slope from differences half the segment apart: robust to outliers
    slope = float(np.median(y[half:] - y[: n - half])) / half
    line = y - slope * x
    line = line - np.median(line)

    def rss(residuals: Floats) -> float:  # an outlier weighs at most CLIP·σ
        return float(np.sum(np.minimum(np.abs(residuals), CLIP * noise) ** 2))

    rho = float(_difference_rho(y, np.array([index]))[0])
    penalty = DRIFT_PENALTY * math.log(n) * noise**2 * (1 + rho) / (1 - rho)
    return "drift" if rss(line) < rss(step) + penalty else "step"


def check_tail(
    values: Sequence[float] | Floats,
    start: int,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    window: int = WINDOW,
    groups: Sequence[object] | None = None,
) -> ChangePoint | None:
    """The incremental check CI makes after each new value: is there a change in the open
    segment, values[start:] (since the last change point), looking back at most `window`
    values? With `groups` (each value's commit), a change lies between commits. Returns
    it with its absolute index, or None."""
    y = np.asarray(values, dtype=np.float64)
    if groups is None:
        return _check_tail(y, start, direction, min_effect, window, None)
    if len(groups) != len(y):
        raise SeriesError(f"series: {len(groups)} groups for {len(y)} values")
    lo = max(start, len(y) - window)  # only the window's groups are looked at
    cuts = np.ones(len(y) + 1, dtype=np.bool_)
    cuts[lo:] = _cuts(groups[lo:])
    return _check_tail(y, start, direction, min_effect, window, cuts)


def _check_tail(
    y: Floats,
    start: int,
    direction: Direction,
    min_effect: float,
    window: int,
    cuts: NDArray[np.bool_] | None,
) -> ChangePoint | None:
    lo = max(start, len(y) - window)
    segment = np.log(y[lo:])
    split = _best_split(segment, direction, False, None if cuts is None else cuts[lo:])
    if split is None or not _accept(split, min_effect):
        return None
    return _change(segment, lo, split, direction)


def _change(segment: Floats, lo: int, split: Split, direction: Direction) -> ChangePoint:
    """The change point of `split`, found in `segment` (log values) starting at `lo`."""
    kind = _kind(split.ratio, direction)
    shape = shape_of(segment, split.index)
    return ChangePoint(lo + split.index, kind, split.ratio, split.statistic, shape, lo)


def replay(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    start_at: int = 0,
    groups: Sequence[object] | None = None,
) -> list[ChangePoint]:
    """Change points found by checking the tail after each new value, as CI does run by
    run: a change, once found, is kept and the next segment starts at it; a drift found
    again in that segment is the same drift grown (`continued`), not a second change.
    With `groups` (each value's commit), a change lies between commits."""
    y = validate(values)
    cuts = cuts_of(groups, len(y))
    found: list[ChangePoint] = []
    start = 0
    for end in range(max(start_at, MIN_BEFORE + MIN_AFTER), len(y) + 1):
        change = _check_tail(y[:end], start, direction, min_effect, WINDOW, cuts)
        if change is None:
            continue
        grown = continued(found[-1], change) if found else None
        if grown is None:
            found.append(change)
        else:
            found[-1] = grown
        start = change.index
    return found


def continued(previous: ChangePoint, change: ChangePoint) -> ChangePoint | None:
    """One drift, grown: `change` merged into `previous` when both are drifts the same way
    and `change` was found in the segment that `previous` opened (the values kept moving);
    None when `change` is a change of its own."""
    if previous.shape != "drift" or change.shape != "drift":
        return None
    if previous.kind != change.kind or change.start != previous.index:
        return None
    ratio = previous.ratio * change.ratio
    return ChangePoint(change.index, change.kind, ratio, change.statistic, "drift", previous.start)


@dataclass(frozen=True)
class Coverage:
    """What a series of `n` values can be judged for. A change needs `MIN_BEFORE` values
    of its segment before it and `MIN_AFTER` after, and lies between groups (commits)
    when they are given. `judged`: the ranges (first, last) of indices at which a change
    was looked for (as the first value after it; with groups, only the indices in them
    that begin a group); `start`: where the open segment begins (0, or the newest change);
    `pending`: its indices at which a change could be found once more values follow
    (`more` of them); `open_judged`: whether a change in the open segment can be found
    now."""

    n: int
    judged: tuple[tuple[int, int], ...]
    start: int
    pending: tuple[int, ...]
    open_judged: bool

    def more(self, index: int) -> int:
        """How many more values a change at `index` needs before it can be judged."""
        return max(index + MIN_AFTER - self.n, 0)

    @property
    def needs(self) -> int:
        """How many more values, at least, before a change in the open segment can be
        judged: 0 when one can be now; values to come are taken to begin new groups."""
        if self.open_judged:
            return 0
        if self.pending:
            return self.more(self.pending[0])
        return self.more(max(self.start + MIN_BEFORE, self.n))

    @property
    def too_short(self) -> bool:
        """No change could be looked for anywhere in the series."""
        return not self.judged


def coverage(
    n: int,
    bounds: Sequence[int] = (),
    groups: Sequence[object] | None = None,
    scanned: Sequence[tuple[int, int]] | None = None,
) -> Coverage:
    """The coverage (see `Coverage`) of a series of n values whose changes (or environment
    changes) lie at `bounds`; `scanned`: the segments (lo, hi) a change was looked for in,
    by default those that `bounds` cut the series into (binary segmentation looks in a
    segment, then in its parts)."""
    cuts = cuts_of(groups, n)
    edges = sorted({0, n, *(b for b in bounds if 0 < b < n)})

    def splits(lo: int, hi: int) -> NDArray[np.int64]:
        return lo + _splits(hi - lo, None if cuts is None else cuts[lo:hi])

    ranges = []
    for lo, hi in itertools.pairwise(edges) if scanned is None else scanned:
        ks = splits(lo, hi)
        if len(ks):
            ranges.append((int(ks[0]), int(ks[-1])))
    judged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):  # their union
        if judged and first <= judged[-1][1] + 1:
            judged[-1] = (judged[-1][0], max(last, judged[-1][1]))
        else:
            judged.append((first, last))
    start = edges[-2] if len(edges) > 1 else 0
    open_splits = splits(start, n)
    first = int(open_splits[-1]) + 1 if len(open_splits) else start + MIN_BEFORE
    pending = tuple(r for r in range(first, n) if cuts is None or cuts[r])
    return Coverage(n, tuple(judged), start, pending, len(open_splits) > 0)


@dataclass(frozen=True)
class Analysis:
    """A whole series analysed at once: its change points and what it could judge."""

    changes: list[ChangePoint]
    coverage: Coverage


def analyse(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    groups: Sequence[object] | None = None,
) -> Analysis:
    """All change points of a whole series at once, by binary segmentation with the same
    statistic and thresholds as `check_tail` (fewer looks than a replay, so no more false
    alerts), and the coverage of the segments it leaves. With `groups` (each value's
    commit), a change lies between commits. SeriesError for values that are not finite
    and positive."""
    y = np.log(validate(values))
    cuts = cuts_of(groups, len(y))
    found: list[ChangePoint] = []
    bounds: list[int] = []
    scanned: list[tuple[int, int]] = []
    stack = [(0, len(y))]
    while stack:
        lo, hi = stack.pop()
        scanned.append((lo, hi))
        split = _best_split(y[lo:hi], direction, False, None if cuts is None else cuts[lo:hi])
        if split is None or not split.significant:
            continue
        index = lo + split.index
        stack += [(lo, index), (index, hi)]
        bounds.append(index)
        if _accept(split, min_effect):
            found.append(_change(y[lo:hi], lo, split, direction))
    changes = sorted(found, key=lambda c: c.index)
    return Analysis(changes, coverage(len(y), bounds, groups, scanned))


def detect(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    groups: Sequence[object] | None = None,
) -> list[ChangePoint]:
    """The change points of `analyse`."""
    return analyse(values, direction, min_effect, groups).changes
