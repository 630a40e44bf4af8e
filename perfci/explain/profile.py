"""What one profiled benchmark left behind: per profiler ("section"), the figures of each
segment of calls, as a versioned JSON file that the diff reads back.

A segment is one profiler session over a run of consecutive benchmark calls. Each
process profiles its calls in two halves, and each side runs in more than one process,
so every side has several segments: their spread is the profiler's own run-to-run noise,
per operator, that `perfci.explain.diff` weighs every change against.

Figures in a segment are totals over its calls, in seconds; the diff divides by the
segment's calls, so sides profiled with different numbers of calls still compare.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
# Which profiler wrote a section; the diff compares like with like only.
SECTIONS = ("torch", "mlx", "coreml", "python")


class ProfileError(ValueError):
    """A profile file that is not one perfci wrote, or of another format version."""


@dataclass(frozen=True)
class OpStat:
    """One operator (torch), evaluated graph or primitive (MLX), operation (Core ML) or
    Python function, summed over a segment's calls. `self_cpu_s`/`self_device_s` are
    None where the profiler has no such clock; `device` is where it ran when the profiler
    says (a Core ML plan's preferred device, a torch op that fell back from MPS to CPU);
    `cost` is Core ML's estimated share of the model's work (0 to 1)."""

    name: str
    kind: str  # operator, graph, primitive, operation, function
    calls: int
    self_cpu_s: float | None = None
    self_device_s: float | None = None
    shapes: tuple[str, ...] = ()
    device: str | None = None
    cost: float | None = None


@dataclass(frozen=True)
class Segment:
    """One profiler session: how many benchmark calls it covered, what it saw."""

    calls: int
    ops: tuple[OpStat, ...]


@dataclass
class Section:
    """What one profiler saw in one process: its segments, raw traces (file names
    relative to the profile's folder), notes on what it could not do and why, and
    figures of its own (Core ML's load and compile time)."""

    tool: str
    segments: list[Segment] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_s: float | None = None


@dataclass
class Profile:
    """One benchmark test (a pytest node id) profiled in one process."""

    nodeid: str
    suite: str
    name: str
    params: dict[str, Any]
    backend: str | None
    device: str | None
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def section(self, tool: str) -> Section | None:
        return next((s for s in self.sections if s.tool == tool), None)

    def to_json(self) -> str:
        return json.dumps({"format_version": FORMAT_VERSION, **asdict(self)}, indent=1)


def write_profile(profile: Profile, path: Path) -> None:
    """Write `path` whole or not at all: a reader never sees half a profile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(profile.to_json())
    tmp.replace(path)


def read_profile(path: Path) -> Profile:
    """The profile in `path`; ProfileError naming the file for anything else."""
    try:
        doc = json.loads(path.read_text())
        if doc.get("format_version") != FORMAT_VERSION:
            raise ProfileError(
                f"{path}: profile format {doc.get('format_version')!r}, not {FORMAT_VERSION}"
            )
        sections = [_section(s) for s in doc["sections"]]
        return Profile(
            nodeid=str(doc["nodeid"]),
            suite=str(doc["suite"]),
            name=str(doc["name"]),
            params=dict(doc["params"]),
            backend=doc["backend"],
            device=doc["device"],
            sections=sections,
            notes=[str(n) for n in doc["notes"]],
        )
    except ProfileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProfileError(f"{path}: not a perfci profile ({exc})") from None


def _section(doc: dict[str, Any]) -> Section:
    if doc["tool"] not in SECTIONS:
        raise ValueError(f"unknown section {doc['tool']!r}")
    segments = [
        Segment(
            int(s["calls"]),
            tuple(OpStat(**{**op, "shapes": tuple(op["shapes"])}) for op in s["ops"]),
        )
        for s in doc["segments"]
    ]
    load = doc.get("load_s")
    return Section(
        tool=str(doc["tool"]),
        segments=segments,
        traces=[str(t) for t in doc["traces"]],
        notes=[str(n) for n in doc["notes"]],
        load_s=None if load is None else float(load),
    )
