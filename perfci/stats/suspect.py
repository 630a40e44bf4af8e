"""A suspected change: the newest values of a series' open segment look changed, but not
yet enough for the detector to call it.

Method: the detector's own split scan (`perfci.stats.scan.scan`: the same statistic,
noise, autocorrelation and per-split threshold as an alert's) over the open segment,
restricted to the splits with at most `SUSPECT_AFTER` values after them (a change among
the newest runs), and judged against a weaker bar: a split is suspected when its
|statistic| reaches its alert threshold less `SUSPECT_MARGIN`, the medians move by at
least the minimum effect, and medians and means agree on the way. The strongest such
split (largest excess over the weaker bar) is the suspected change point.

Why only the newest splits: measuring both sides of a change again is informative while
few values follow it (r more values after a tail of m move its mean's standard error by
√(m/(m+r))); an older change has enough values after it for the detector to judge on
its own. The margin and the tail length are calibrated with the confirmation itself
(suites/perfci/quality/confirm.py and QUALITY.md): a suspicion costs re-measurements,
and it is the detector, on all the evidence, that raises the alert or not."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perfci.stats.change import kind_of
from perfci.stats.scan import scan, worse_sign
from perfci.stats.segments import (
    IMPROVEMENT_MARGIN,
    MIN_EFFECT,
    THRESHOLD,
    WINDOW,
    Cuts,
    Direction,
    Floats,
    Kind,
)

SUSPECT_MARGIN = 2.0  # statistic units below the alert's threshold at the same split
SUSPECT_AFTER = 10  # a suspected change has at most this many values after it


@dataclass(frozen=True)
class Suspect:
    """`index`: 0-based position of the first value after the suspected change; `ratio`:
    median after over median before; `statistic`: the detector's standardised difference
    of the means at that split (positive: values went up); `threshold`: what |statistic|
    must reach there for an alert."""

    index: int
    kind: Kind
    ratio: float
    statistic: float
    threshold: float


def suspect(
    values: Floats,
    start: int,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    cuts: Cuts | None = None,
    margin: float = SUSPECT_MARGIN,
    window: int = WINDOW,
) -> Suspect | None:
    """The suspected change in the open segment values[start:] (positive values; at most
    `window` of the newest looked at, as the detector does), with `cuts` (`cuts_of` the
    series' commits) a change only between commits; None when nothing is suspected."""
    lo = max(start, len(values) - window)
    y = np.log(values[lo:])
    found = scan(y, exact=True, cuts=None if cuts is None else cuts[lo:])
    if found is None:
        return None
    worse = np.sign(found.statistic) == worse_sign(direction)
    thresholds = np.where(worse, THRESHOLD, THRESHOLD + IMPROVEMENT_MARGIN)
    thresholds = thresholds * found.factor + found.penalty
    excess = np.abs(found.statistic) - (thresholds - margin)
    recent = found.splits >= len(y) - SUSPECT_AFTER
    excess = np.where(recent, excess, -np.inf)
    for i in np.argsort(-excess, kind="stable"):
        if excess[i] < 0:
            break
        k = int(found.splits[i])
        ratio = math.exp(float(np.median(y[k:]) - np.median(y[:k])))
        statistic = float(found.statistic[i])
        if abs(math.log(ratio)) < math.log1p(min_effect) or (ratio > 1) != (statistic > 0):
            continue  # too small to matter, or medians and means disagree
        kind = kind_of(ratio, direction)
        return Suspect(lo + k, kind, ratio, statistic, float(thresholds[i]))
    return None
