"""The change-point detector's vocabulary: its constants, types, the values it accepts,
and where in a segment a change may lie (`MIN_BEFORE` values before it, `MIN_AFTER`
after, and, with groups, between two groups: runs of one commit stay together). The
method itself is described in `perfci.stats.changepoint`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Direction = Literal["lower", "higher"]
Kind = Literal["regression", "improvement"]
Shape = Literal["step", "drift"]
Floats = NDArray[np.float64]
Cuts = NDArray[np.bool_]

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
MAD = 1.4826  # MAD → standard deviation for Gaussian data


class SeriesError(ValueError):
    """A series that cannot be analysed; the message is one line for the user."""


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


def cuts_of(groups: Sequence[object] | None, n: int) -> Cuts | None:
    """Where a change may lie, from each value's group (its commit): `cuts[k]` is False
    when values k-1 and k belong to one group (two runs of one commit), True otherwise;
    an empty or None group is a group of its own. None for no groups: any split."""
    if groups is None:
        return None
    if len(groups) != n:
        raise SeriesError(f"series: {len(groups)} groups for {n} values")
    return group_cuts(groups)


def group_cuts(groups: Sequence[object]) -> Cuts:
    """`cuts_of` for groups known to match the values (n + 1 entries, the ends True)."""
    cuts = np.ones(len(groups) + 1, dtype=np.bool_)
    for k in range(1, len(groups)):
        same = groups[k] == groups[k - 1]
        cuts[k] = not same or groups[k] is None or groups[k] == ""
    return cuts


def admissible_splits(n: int, cuts: Cuts | None) -> NDArray[np.int64]:
    """The admissible splits of n values: `MIN_BEFORE` before, `MIN_AFTER` after, and a
    change between groups."""
    ks = np.arange(MIN_BEFORE, n - MIN_AFTER + 1)
    return ks if cuts is None else ks[cuts[ks]]
