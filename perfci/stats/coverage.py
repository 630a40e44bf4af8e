"""What a series can be judged for: the indices at which a change was looked for, where
its open segment begins, and how many more values that segment needs before a change in
it can be found (a change needs `MIN_BEFORE` values of its segment before it and
`MIN_AFTER` after, and lies between groups when they are given)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from perfci.stats.segments import MIN_AFTER, MIN_BEFORE, admissible_splits, cuts_of


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
        return lo + admissible_splits(hi - lo, None if cuts is None else cuts[lo:hi])

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
