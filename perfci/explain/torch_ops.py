"""torch benchmarks: operator totals from `torch.profiler`, and on MPS the operators that
fell back to the CPU.

Per operator: self CPU time, self device time (CUDA kernels; MPS has no profiler
activity, so there it is CPU time only), calls and the input shapes recorded; on CUDA
each kernel too (kind `kernel`), which names what the device ran. The first
segment is exported as a Chrome trace (`torch-trace.json`, which Perfetto and
chrome://tracing open).

MPS fallback: with PYTORCH_ENABLE_MPS_FALLBACK=1, an operator MPS lacks runs on the CPU
and torch warns "The operator '<name>' is not currently supported on the MPS backend and
will fall back to run on the CPU" once per process, on the benchmark's first call. The
profiled calls run with `torch.set_warn_always(True)`, so the warning comes again on
every call, and each operator it names is marked as run on the CPU.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfci.explain.profile import OpStat, Section, Segment
from perfci.explain.python_funcs import split

FALLBACK = re.compile(r"The operator '([^']+)' is not currently supported on the MPS backend")
FALLBACK_DEVICE = "CPU (MPS fallback)"
SHAPES_KEPT = 3  # distinct input shapes kept per operator
# The profiler's own bookkeeping (CUPTI's buffers), not the benchmark's work.
PROFILER_EVENTS = frozenset({"Activity Buffer Request"})


def collect(call: Callable[[], Any], calls: int, trace_dir: Path, device: str) -> Section:
    import torch
    from torch.profiler import ProfilerActivity, profile

    kind = device.split(":")[0]
    activities = [ProfilerActivity.CPU]
    if kind == "cuda":
        activities.append(ProfilerActivity.CUDA)
    section = Section("torch")
    if kind == "mps":
        section.notes.append("MPS has no torch.profiler activity: self device time is not known")
    always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        for index, count in enumerate(split(calls)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with profile(activities=activities, record_shapes=True) as prof:
                    for _ in range(count):
                        call()
                    _synchronize(torch, kind)
            fell_back = {m[1] for w in caught if (m := FALLBACK.search(str(w.message)))}
            section.segments.append(Segment(count, _ops(prof, fell_back)))
            if index == 0:
                trace = trace_dir / "torch-trace.json"
                prof.export_chrome_trace(str(trace))
                section.traces.append(trace.name)
    finally:
        torch.set_warn_always(always)
    return section


def _synchronize(torch: Any, kind: str) -> None:
    """Every kernel the calls launched ends inside the profiled window."""
    if kind == "cuda":
        torch.cuda.synchronize()
    elif kind == "mps":
        torch.mps.synchronize()


def _ops(prof: Any, fell_back: set[str]) -> tuple[OpStat, ...]:
    shapes: dict[str, list[str]] = {}
    for event in prof.key_averages(group_by_input_shape=True):
        seen = shapes.setdefault(event.key, [])
        text = str(event.input_shapes)
        if event.input_shapes and text not in seen and len(seen) < SHAPES_KEPT:
            seen.append(text)
    ops = []
    for event in prof.key_averages():
        if event.key in PROFILER_EVENTS:
            continue
        device_us = _device_us(event)
        ops.append(
            OpStat(
                name=event.key,
                # A CUDA kernel is listed on its own too, its time already in the self
                # device time of the operator that launched it: the diff counts it once.
                kind="operator" if str(event.device_type) == "DeviceType.CPU" else "kernel",
                calls=int(event.count),
                self_cpu_s=float(event.self_cpu_time_total) / 1e6,
                self_device_s=None if device_us is None else device_us / 1e6,
                shapes=tuple(shapes.get(event.key, ())),
                device=FALLBACK_DEVICE if event.key in fell_back else None,
            )
        )
    return tuple(ops)


def _device_us(event: Any) -> float | None:
    """Self device time in µs: `self_device_time_total` (torch 2.4 on), else the older
    `self_cuda_time_total`; None where neither is kept."""
    for name in ("self_device_time_total", "self_cuda_time_total"):
        value = getattr(event, name, None)
        if value is not None:
            return float(value)
    return None
