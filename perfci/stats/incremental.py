"""Detection value by value, as CI checks a series run after run: one step of the
detector per new value, and `replay`, which takes those steps over a whole series.

The step is the whole of the incremental detector, and the store's history mode
(`perfci.alerts`) takes the same steps on each series, so what the quality evaluation
measures with `replay` is what production runs. A step checks the open segment's tail
(`check_tail`); a change found opens the next segment at its index; a drift found again
in the segment that a drift opened is that drift, grown (`continued`), not a second
change. What lies around the steps is the caller's: where a segment begins besides a
change (the store: an environment change, or its newest stored alert), which tails are
checked (the store re-checks only the newest), and which changes may still grow (the
store: an open alert, not an acknowledged one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perfci.stats.change import ChangePoint, tail_change
from perfci.stats.segments import (
    MIN_AFTER,
    MIN_BEFORE,
    MIN_EFFECT,
    WINDOW,
    Cuts,
    Direction,
    Floats,
    cuts_of,
    validate,
)


@dataclass(frozen=True)
class Segment:
    """Where a series checked value by value stands: its open segment begins at index
    `start`; `opened_by` is the change it began at, which a drift found again in it grows
    (None at the series' start, or when the segment began otherwise, or when that change
    must not grow)."""

    start: int = 0
    opened_by: ChangePoint | None = None

    @property
    def first_end(self) -> int:
        """The fewest values seen at which a step can find a change in this segment."""
        return self.start + MIN_BEFORE + MIN_AFTER


@dataclass(frozen=True)
class Step:
    """A step that found a change: `change` as it stands now (when `grown`, the drift that
    opened the segment, merged with the change found: it replaces `opened_by`), and the
    segment it opens."""

    change: ChangePoint
    grown: bool
    segment: Segment


def step(
    values: Floats,
    end: int,
    segment: Segment,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    cuts: Cuts | None = None,
    window: int = WINDOW,
) -> Step | None:
    """One check of the incremental detector once `end` values of the series have been
    seen: a change in values[segment.start:end] (positive values, `validate`d; at most
    `window` of the newest looked at), with `cuts` (`cuts_of` the series' groups) a change
    only between groups. None when there is none; else the `Step`, whose segment the
    next check starts from."""
    change = tail_change(values[:end], segment.start, direction, min_effect, window, cuts)
    if change is None:
        return None
    grown = None if segment.opened_by is None else continued(segment.opened_by, change)
    placed = change if grown is None else grown
    return Step(placed, grown is not None, Segment(change.index, placed))


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


def replay(
    values: Sequence[float] | Floats,
    direction: Direction = "lower",
    min_effect: float = MIN_EFFECT,
    start_at: int = 0,
    groups: Sequence[object] | None = None,
) -> list[ChangePoint]:
    """Change points found by checking the tail after each new value, as CI does run by
    run (a `step` per value from the `start_at`-th on): a change, once found, is kept and
    the next segment starts at it; a drift found again in that segment is the same drift
    grown (`continued`), not a second change. With `groups` (each value's commit), a
    change lies between commits."""
    y = validate(values)
    cuts = cuts_of(groups, len(y))
    found: list[ChangePoint] = []
    segment = Segment()
    for end in range(max(start_at, segment.first_end), len(y) + 1):
        done = step(y, end, segment, direction, min_effect, cuts)
        if done is None:
            continue
        if done.grown:
            found[-1] = done.change
        else:
            found.append(done.change)
        segment = done.segment
    return found
