"""Base against head, per operator (or graph, primitive, operation, function): what got
slower or faster, what is called more or less often, what appeared or vanished, and what
moved to another device, sorted by its share of the change in total time.

Every figure is per benchmark call: a segment's totals divided by its calls, averaged
over the side's segments. Noise is measured, not assumed: each side has several
segments (two halves per process, in more than one process). The section's noise is the
larger of the two sides' spread (max minus min) of its total time per call, and at
least `FLOOR_SHARE` of that total; an entry's noise bound is the larger of its own
spread on either side and the section's noise, since a change smaller than the whole
profile's run-to-run spread cannot be told apart from it (and one operator's process
to process swings, which two processes a side cannot pin down, hide below it). A time
change within that bound is `within_noise`. Calls and
devices are counted, not timed: they change when the two sides' segments do not overlap.
A Core ML plan is a decision, not a measurement: it compares exactly. A diff whose every
entry and whose total are within noise says so (`within_noise`). Nothing here touches a
verdict: a diff only explains one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from perfci.explain.profile import OpStat, Profile, Segment

FLOOR_SHARE = 0.02
STATUSES = ("new", "vanished", "changed", "within_noise", "unchanged")
_EXACT = ("coreml",)  # sections whose figures are decisions, compared exactly


@dataclass(frozen=True)
class Change:
    """One entry of a section, base against head. Times are seconds per benchmark call
    on the section's clock (`SectionDiff.clock`), None where it has none; `noise_s` is
    the bound the delta was judged against."""

    name: str
    kind: str
    status: str  # one of STATUSES
    base_s: float | None
    head_s: float | None
    delta_s: float | None
    noise_s: float | None
    cpu_delta_s: float | None
    device_delta_s: float | None
    calls_base: float
    calls_head: float
    calls_changed: bool
    device_base: str | None = None
    device_head: str | None = None
    cost_base: float | None = None
    cost_head: float | None = None
    shapes: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        """Ran on another device at head (both sides had the entry)."""
        return (
            self.status not in ("new", "vanished")
            and self.device_base != self.device_head
            and (self.device_base is not None or self.device_head is not None)
        )

    @property
    def calls_delta(self) -> float:
        return self.calls_head - self.calls_base


@dataclass(frozen=True)
class SectionDiff:
    """One profiler's diff. `clock`: `device` (device time was recorded), `cpu`, or None
    (a plan without times)."""

    tool: str
    clock: str | None
    base_total_s: float | None
    head_total_s: float | None
    noise_s: float | None
    segments_base: int
    segments_head: int
    within_noise: bool
    changes: tuple[Change, ...]
    load_base_s: float | None = None
    load_head_s: float | None = None

    @property
    def delta_s(self) -> float | None:
        if self.base_total_s is None or self.head_total_s is None:
            return None
        return self.head_total_s - self.base_total_s

    def notable(self) -> list[Change]:
        """The entries that changed beyond noise, in the section's order."""
        return [c for c in self.changes if c.status in ("new", "vanished", "changed")]


@dataclass(frozen=True)
class Explanation:
    """The diff of one benchmark test (a pytest node id), over every profiler both sides
    ran; `processes` counts each side's profiled processes."""

    nodeid: str
    suite: str
    name: str
    params: dict[str, object]
    backend: str | None
    device: str | None
    sections: tuple[SectionDiff, ...]
    processes: tuple[int, int]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def within_noise(self) -> bool:
        return all(s.within_noise for s in self.sections)


def diff_profiles(base: Sequence[Profile], head: Sequence[Profile]) -> Explanation:
    """The diff of one test's profiles, from each side's processes (at least one each)."""
    first = head[0]
    notes: list[str] = []
    for side, profiles in (("base", base), ("head", head)):
        for note in dict.fromkeys(n for p in profiles for s in p.sections for n in s.notes):
            notes.append(f"{side}: {note}")
    tools = [s.tool for s in first.sections]
    tools += [s.tool for s in base[0].sections if s.tool not in tools]
    sections = []
    for tool in tools:
        b = [s for p in base if (s := p.section(tool)) is not None]
        h = [s for p in head if (s := p.section(tool)) is not None]
        b_segments = [seg for s in b for seg in s.segments]
        h_segments = [seg for s in h for seg in s.segments]
        if not b_segments or not h_segments:
            missing = "base" if not b_segments else "head"
            notes.append(f"{tool}: nothing profiled on {missing}, so no diff")
            continue
        section = diff_segments(tool, b_segments, h_segments)
        loads_b = [s.load_s for s in b if s.load_s is not None]
        loads_h = [s.load_s for s in h if s.load_s is not None]
        if loads_b or loads_h:
            section = _with_loads(section, loads_b, loads_h)
        sections.append(section)
    return Explanation(
        nodeid=first.nodeid,
        suite=first.suite,
        name=first.name,
        params=dict(first.params),
        backend=first.backend,
        device=first.device,
        sections=tuple(sections),
        processes=(len(base), len(head)),
        notes=tuple(notes),
    )


def _with_loads(section: SectionDiff, base: list[float], head: list[float]) -> SectionDiff:
    from dataclasses import replace

    return replace(
        section,
        load_base_s=sum(base) / len(base) if base else None,
        load_head_s=sum(head) / len(head) if head else None,
    )


def _clock(segments: Sequence[Segment], tool: str) -> str | None:
    if tool in _EXACT:
        return None
    if any((op.self_device_s or 0.0) > 0 for seg in segments for op in seg.ops):
        return "device"
    return "cpu"


def _time(op: OpStat | None, clock: str | None) -> float:
    if op is None or clock is None:
        return 0.0
    value = op.self_device_s if clock == "device" else op.self_cpu_s
    return value or 0.0


def _total(seg: Segment, clock: str | None) -> float:
    """A segment's time per call. A kernel's time is in the self device time of the
    operator that launched it, so kernels are not counted again."""
    return sum(_time(op, clock) for op in seg.ops if op.kind != "kernel") / seg.calls


def _spread(values: Sequence[float]) -> float:
    return max(values) - min(values) if len(values) > 1 else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def diff_segments(tool: str, base: Sequence[Segment], head: Sequence[Segment]) -> SectionDiff:
    """One section's diff from each side's segments (one or more each)."""
    clock = _clock([*base, *head], tool)
    tables_b = [{op.name: op for op in seg.ops} for seg in base]
    tables_h = [{op.name: op for op in seg.ops} for seg in head]
    totals_b = [_total(seg, clock) for seg in base]
    totals_h = [_total(seg, clock) for seg in head]
    floor = FLOOR_SHARE * max(_mean(totals_b), _mean(totals_h))
    total_noise = max(_spread(totals_b), _spread(totals_h), floor)
    names = list(dict.fromkeys([n for t in tables_h for n in t] + [n for t in tables_b for n in t]))
    changes = [
        _change(name, tables_b, tables_h, base, head, clock, total_noise, tool in _EXACT)
        for name in names
    ]
    changes.sort(key=_contribution)
    changes.sort(key=lambda c: c.status in ("within_noise", "unchanged"))  # stable: notable first
    if clock is None:
        within = not any(c.status in ("new", "vanished", "changed") for c in changes)
        return SectionDiff(tool, None, None, None, None, len(base), len(head), within,
                           tuple(changes))  # fmt: skip
    total_delta = _mean(totals_h) - _mean(totals_b)
    within = abs(total_delta) <= total_noise and not any(
        c.status in ("new", "vanished", "changed") for c in changes
    )
    return SectionDiff(
        tool, clock, _mean(totals_b), _mean(totals_h), total_noise, len(base), len(head),
        within, tuple(changes),
    )  # fmt: skip


def _contribution(c: Change) -> tuple[float, bool, float, float]:
    cost = abs((c.cost_head or 0.0) - (c.cost_base or 0.0))
    return (-abs(c.delta_s or 0.0), not c.moved, -cost, -abs(c.calls_delta))


def _most_common(values: list[str | None]) -> str | None:
    return Counter(values).most_common(1)[0][0] if values else None


def _change(
    name: str,
    tables_b: list[dict[str, OpStat]],
    tables_h: list[dict[str, OpStat]],
    base: Sequence[Segment],
    head: Sequence[Segment],
    clock: str | None,
    section_noise: float,
    exact: bool,
) -> Change:
    ops_b = [t.get(name) for t in tables_b]
    ops_h = [t.get(name) for t in tables_h]
    seen_b = [op for op in ops_b if op is not None]
    seen_h = [op for op in ops_h if op is not None]
    calls_b = [(op.calls if op else 0) / seg.calls for op, seg in zip(ops_b, base, strict=True)]
    calls_h = [(op.calls if op else 0) / seg.calls for op, seg in zip(ops_h, head, strict=True)]
    times_b = [_time(op, clock) / seg.calls for op, seg in zip(ops_b, base, strict=True)]
    times_h = [_time(op, clock) / seg.calls for op, seg in zip(ops_h, head, strict=True)]
    calls_changed = min(calls_h) > max(calls_b) or max(calls_h) < min(calls_b)
    device_b = _most_common([op.device for op in seen_b])
    device_h = _most_common([op.device for op in seen_h])
    cost_b = _mean([op.cost for op in seen_b if op.cost is not None] or [0.0]) if seen_b else None
    cost_h = _mean([op.cost for op in seen_h if op.cost is not None] or [0.0]) if seen_h else None
    delta = _mean(times_h) - _mean(times_b) if clock is not None else None
    noise = max(_spread(times_b), _spread(times_h), section_noise) if clock is not None else None
    if not seen_b and len(seen_h) == len(ops_h):
        status = "new"
    elif not seen_h and len(seen_b) == len(ops_b):
        status = "vanished"
    elif (
        calls_changed
        or (seen_b and seen_h and device_b != device_h)
        or (delta is not None and noise is not None and abs(delta) > noise)
        or (exact and seen_b and seen_h and cost_b != cost_h)
    ):
        status = "changed"
    else:
        status = "unchanged" if exact else "within_noise"
    shapes = tuple(dict.fromkeys(s for op in [*seen_h, *seen_b] for s in op.shapes))
    return Change(
        name=name,
        kind=(seen_h or seen_b)[0].kind,
        status=status,
        base_s=_mean(times_b) if clock is not None and seen_b else None,
        head_s=_mean(times_h) if clock is not None and seen_h else None,
        delta_s=delta,
        noise_s=noise,
        cpu_delta_s=_clock_delta(ops_b, ops_h, base, head, "cpu"),
        device_delta_s=_clock_delta(ops_b, ops_h, base, head, "device"),
        calls_base=_mean(calls_b),
        calls_head=_mean(calls_h),
        calls_changed=calls_changed,
        device_base=device_b,
        device_head=device_h,
        cost_base=cost_b,
        cost_head=cost_h,
        shapes=shapes[:3],
    )


def _clock_delta(
    ops_b: list[OpStat | None],
    ops_h: list[OpStat | None],
    base: Sequence[Segment],
    head: Sequence[Segment],
    clock: str,
) -> float | None:
    """The change on one clock (self CPU or self device) where either side has it."""
    if not any(_has(op, clock) for op in [*ops_b, *ops_h]):
        return None
    b = _mean([_time(op, clock) / seg.calls for op, seg in zip(ops_b, base, strict=True)])
    h = _mean([_time(op, clock) / seg.calls for op, seg in zip(ops_h, head, strict=True)])
    return h - b


def _has(op: OpStat | None, clock: str) -> bool:
    if op is None:
        return False
    return (op.self_device_s if clock == "device" else op.self_cpu_s) is not None
