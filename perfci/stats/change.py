"""A change point, as the check of an open segment's tail finds it: the strongest split
accepted (significant, large enough to matter, medians agreeing with means), its kind
for the metric's direction, and its shape (a step at one commit, or a drift over the
segment). Step 3 and the shape of the method in `perfci.stats.changepoint`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perfci.stats.scan import Split, difference_rho, robust_scale, strongest_split
from perfci.stats.segments import (
    CLIP,
    DRIFT_PENALTY,
    MIN_EFFECT,
    WINDOW,
    Cuts,
    Direction,
    Floats,
    Kind,
    SeriesError,
    Shape,
    group_cuts,
)


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


def kind_of(ratio: float, direction: Direction) -> Kind:
    worse = ratio > 1 if direction == "lower" else ratio < 1
    return "regression" if worse else "improvement"


def accept(split: Split | None, min_effect: float) -> bool:
    """Significant, large enough to matter, and medians agree with means on the way."""
    if split is None or not split.significant:
        return False
    if abs(math.log(split.ratio)) < math.log1p(min_effect):
        return False
    return (split.ratio > 1) == (split.statistic > 0)


def shape_of(y: Floats, index: int) -> Shape:
    """`drift` when a straight line through the segment's log values `y` fits about as
    well as a step at `index` (see the method's notes), else `step`."""
    n = len(y)
    noise = robust_scale(y)
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

    rho = float(difference_rho(y, np.array([index]))[0])
    penalty = DRIFT_PENALTY * math.log(n) * noise**2 * (1 + rho) / (1 - rho)
    return "drift" if rss(line) < rss(step) + penalty else "step"


def change_of(segment: Floats, lo: int, split: Split, direction: Direction) -> ChangePoint:
    """The change point of `split`, found in `segment` (log values) starting at `lo`."""
    kind = kind_of(split.ratio, direction)
    shape = shape_of(segment, split.index)
    return ChangePoint(lo + split.index, kind, split.ratio, split.statistic, shape, lo)


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
        return tail_change(y, start, direction, min_effect, window, None)
    if len(groups) != len(y):
        raise SeriesError(f"series: {len(groups)} groups for {len(y)} values")
    lo = max(start, len(y) - window)  # only the window's groups are looked at
    cuts = np.ones(len(y) + 1, dtype=np.bool_)
    cuts[lo:] = group_cuts(groups[lo:])
    return tail_change(y, start, direction, min_effect, window, cuts)


def tail_change(
    y: Floats,
    start: int,
    direction: Direction,
    min_effect: float,
    window: int,
    cuts: Cuts | None,
) -> ChangePoint | None:
    """`check_tail` of positive values y, with `cuts` (`cuts_of` its groups, or of a
    longer series that y begins) instead of the groups."""
    lo = max(start, len(y) - window)
    segment = np.log(y[lo:])
    split = strongest_split(segment, direction, False, None if cuts is None else cuts[lo:])
    if split is None or not accept(split, min_effect):
        return None
    return change_of(segment, lo, split, direction)
