"""MLX benchmarks: what MLX itself exposes, per evaluated graph.

MLX is lazy: a benchmark's work is the graph that `mx.eval` evaluates. MLX has no
per-primitive timer, so for every `mx.eval` during the profiled calls perfci reads the
unevaluated graph (`mx.export_to_dot`, before evaluating: it lists the graph's
primitives) and times the evaluation itself (`mx.eval` returns once the work is done).
A graph is named by its place among one call's evaluations (`eval #1`, `eval #2` …);
each primitive's count is summed over the call's graphs. `mx.eval` is wrapped for the
profiled calls only and put back after. Work evaluated some other way (`.item()`,
`np.array(x)`) is not seen: the note says when no graph was.

On macOS with a Metal GPU, one more call runs under `mx.metal.start_capture`, written
as `mlx.gputrace` for Xcode (Metal needs MTL_CAPTURE_ENABLED=1 in the environment);
elsewhere the note gives the reason it was skipped.
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfci.explain.profile import OpStat, Section, Segment
from perfci.explain.python_funcs import split

_NODE = re.compile(r'\[label ="([^"]+)", shape=rectangle\]')


def primitives(dot: str) -> Counter[str]:
    """The primitives of a graph in MLX's DOT export, counted (a node's label is its
    primitive's name, e.g. `Matmul`, `AsType`)."""
    return Counter(_NODE.findall(dot))


class _Evaluations:
    """`mx.eval` replaced by one that records each graph before evaluating it."""

    def __init__(self, mx: Any) -> None:
        self.mx = mx
        self.original = mx.eval
        self.graphs: list[tuple[Counter[str], float]] = []
        self.first_dot: str | None = None

    def __call__(self, *args: Any) -> None:
        buffer = io.StringIO()
        arrays = [a for a in _leaves(args) if isinstance(a, self.mx.array)]
        if arrays:
            self.mx.export_to_dot(buffer, *arrays)
        dot = buffer.getvalue()
        if self.first_dot is None:
            self.first_dot = dot
        start = time.perf_counter()
        self.original(*args)
        self.graphs.append((primitives(dot), time.perf_counter() - start))

    def __enter__(self) -> _Evaluations:
        self.mx.eval = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.mx.eval = self.original


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in _leaves(item)]
    return [tree]


def collect(call: Callable[[], Any], calls: int, trace_dir: Path, device: str | None) -> Section:
    import mlx.core as mx

    section = Section("mlx")
    for index, count in enumerate(split(calls)):
        times: dict[str, float] = {}
        evals: Counter[str] = Counter()
        counted: Counter[str] = Counter()
        with _Evaluations(mx) as seen:
            for _ in range(count):
                before = len(seen.graphs)
                call()
                for k, (prims, seconds) in enumerate(seen.graphs[before:], start=1):
                    times[f"eval #{k}"] = times.get(f"eval #{k}", 0.0) + seconds
                    evals[f"eval #{k}"] += 1
                    counted.update(prims)
        if index == 0 and seen.first_dot:
            trace = trace_dir / "mlx-graph.dot"
            trace.write_text(seen.first_dot)
            section.traces.append(trace.name)
        # An evaluation's time is the device's compute, waited for (the CPU's on mx.cpu).
        ops = [OpStat(n, "graph", evals[n], self_device_s=times[n]) for n in evals]
        ops += [OpStat(n, "primitive", c) for n, c in sorted(counted.items())]
        section.segments.append(Segment(count, tuple(ops)))
    if not any(s.ops for s in section.segments):
        section.notes.append("no mx.eval during the calls: MLX's graphs were not seen")
    _capture(mx, call, trace_dir, device, section)
    return section


def _capture(
    mx: Any, call: Callable[[], Any], trace_dir: Path, device: str | None, section: Section
) -> None:
    if sys.platform != "darwin":
        section.notes.append("Metal capture (.gputrace) skipped: it needs macOS")
        return
    if device != "gpu":
        section.notes.append("Metal capture (.gputrace) skipped: the benchmark runs on the CPU")
        return
    trace = trace_dir / "mlx.gputrace"
    try:
        mx.metal.start_capture(str(trace))
    except (RuntimeError, ValueError) as exc:
        section.notes.append(f"Metal capture (.gputrace) failed: {exc}")
        return
    try:
        call()
    finally:
        mx.metal.stop_capture()
    section.traces.append(trace.name)
