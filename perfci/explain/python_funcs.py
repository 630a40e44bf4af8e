"""Python-side time of any benchmark: functions by self time, from cProfile.

cProfile is in the standard library and sees every Python function and every built-in
call (a torch op called from Python shows as its method); a sampling profiler would cost
less per call but is one more dependency. Its overhead falls on both sides alike, which
is what a diff needs; its absolute figures read high for call-heavy Python code.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfci.explain.profile import OpStat, Section, Segment

KEEP = 200  # functions kept per segment, by self time: the rest is each under a tiny share


def split(calls: int) -> tuple[int, int]:
    """`calls` as two halves (the second takes the odd one), each one segment."""
    return calls // 2, calls - calls // 2


def function_name(key: tuple[str, int, str], root: Path | None = None) -> str:
    """How a function reads in a diff: `file:name`, the file relative to `root` when under
    it, and a built-in by its name alone, so that base and head, checked out in different
    folders, name the same function alike. The line is left out: code that moved within
    its file is not a change (two functions of one name in one file are summed)."""
    file, line, name = key
    if file == "~" and line == 0:
        return name
    path = Path(file)
    if root is not None and path.is_absolute() and path.is_relative_to(root):
        file = path.relative_to(root).as_posix()
    return f"{file}:{name}"


def collect(call: Callable[[], Any], calls: int, trace_dir: Path, root: Path | None) -> Section:
    """Profile `calls` calls of `call` in two halves; the first half's stats are kept as
    a pstats file (`python.prof`, for snakeviz or `python -m pstats`)."""
    section = Section("python")
    for index, count in enumerate(split(calls)):
        profiler = cProfile.Profile()
        try:
            profiler.enable()
        except ValueError as exc:  # another profiler (coverage, a debugger) holds the hook
            section.notes.append(f"Python functions not profiled: {exc}")
            return section
        try:
            for _ in range(count):
                call()
        finally:
            profiler.disable()
        stats = pstats.Stats(profiler)
        if index == 0:
            trace = trace_dir / "python.prof"
            stats.dump_stats(str(trace))
            section.traces.append(trace.name)
        section.segments.append(Segment(count, _ops(stats, root)))
    return section


def _ops(stats: pstats.Stats, root: Path | None) -> tuple[OpStat, ...]:
    # pstats' table: (file, line, name) -> (primitive calls, calls, self time, cumulative, callers)
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    merged: dict[str, tuple[int, float]] = {}
    for key, (_, ncalls, tottime, _, _) in table.items():
        name = function_name(key, root)
        if name == "<method 'disable' of '_lsprof.Profiler' objects>":
            continue  # the profiler's own off switch
        calls, seconds = merged.get(name, (0, 0.0))
        merged[name] = (calls + ncalls, seconds + tottime)
    top = sorted(merged.items(), key=lambda kv: -kv[1][1])[:KEEP]
    return tuple(OpStat(name, "function", n, self_cpu_s=s) for name, (n, s) in top)
