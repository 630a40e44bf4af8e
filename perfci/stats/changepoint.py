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

The modules: `segments` (constants, types, where a change may lie), `scan` (steps 1-3
over one segment), `change` (a tail's change point and its shape), `incremental` (one
step of the detector per new value, and `replay`; the store's history mode takes the
same steps), `coverage` (what a series can be judged for); this one analyses a whole
series at once and gathers the public names.

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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perfci.stats.change import ChangePoint, accept, change_of, check_tail, shape_of
from perfci.stats.coverage import Coverage, coverage
from perfci.stats.incremental import Segment, Step, continued, replay, step
from perfci.stats.scan import Split, best_split, strongest_split
from perfci.stats.segments import (
    CLIP,
    DRIFT_PENALTY,
    FULL_AFTER,
    IMPROVEMENT_MARGIN,
    LOCAL,
    MAX_RHO,
    MIN_AFTER,
    MIN_BEFORE,
    MIN_EFFECT,
    RHO_UNCERTAINTY,
    SHORT_TAIL_PENALTY,
    THRESHOLD,
    WINDOW,
    Direction,
    Floats,
    Kind,
    SeriesError,
    Shape,
    cuts_of,
    validate,
)

__all__ = [
    "CLIP",
    "DRIFT_PENALTY",
    "FULL_AFTER",
    "IMPROVEMENT_MARGIN",
    "LOCAL",
    "MAX_RHO",
    "MIN_AFTER",
    "MIN_BEFORE",
    "MIN_EFFECT",
    "RHO_UNCERTAINTY",
    "SHORT_TAIL_PENALTY",
    "THRESHOLD",
    "WINDOW",
    "Analysis",
    "ChangePoint",
    "Coverage",
    "Direction",
    "Floats",
    "Kind",
    "Segment",
    "SeriesError",
    "Shape",
    "Split",
    "Step",
    "analyse",
    "best_split",
    "check_tail",
    "continued",
    "coverage",
    "cuts_of",
    "detect",
    "replay",
    "shape_of",
    "step",
    "validate",
]


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
        split = strongest_split(y[lo:hi], direction, False, None if cuts is None else cuts[lo:hi])
        if split is None or not split.significant:
            continue
        index = lo + split.index
        stack += [(lo, index), (index, hi)]
        bounds.append(index)
        if accept(split, min_effect):
            found.append(change_of(y[lo:hi], lo, split, direction))
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
