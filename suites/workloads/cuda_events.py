"""CUDA-event timing of a workload: the GPU's own clock, to hold perfci's host-side
timings against on an NVIDIA GPU (the stand-in for MPS: asynchronous launch, explicit
synchronisation, device memory)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

REPEATS = 50


def event_median(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Median seconds between CUDA events recorded before and after `fn()` on the
    current stream, each call waited for, after one untimed call."""
    import torch

    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return statistics.median(times)


def record_alongside(perf: Any, device: str, fn: Callable[[], Any]) -> None:
    """On CUDA, also record the CUDA-event median as `cuda_event_latency`."""
    if device.startswith("cuda"):
        perf.metric("cuda_event_latency", event_median(fn), "s")
