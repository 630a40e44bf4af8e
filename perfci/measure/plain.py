"""Plain pytest-benchmark `benchmark` fixtures, recorded the way `perf` records.

Suites that teams already have call `benchmark(fn)` or `benchmark.pedantic(...)` and
never heard of perfci. pytest-benchmark keeps timing them; perfci gives the fixture
instance a subclass of its own class (the object, its options and pytest-benchmark's
report stay the same) whose two public entry points synchronise the device before each
call's clock stops and read memory around the run. After the test, `recorded()` turns
the fixture's statistics into a perfci record.

The wrapper adds one Python call per timed call, so it is only put in where it is
needed: when MLX is imported (lazy: nothing runs until `mx.eval`) or torch has an
asynchronous device in use (CUDA initialised, MPS available). A torch-on-CPU, NumPy or
pure-Python benchmark is timed exactly as pytest-benchmark alone would time it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from perfci.backends import Backend, BackendUnavailable, get_backend
from perfci.measure.memory import process_peak_bytes, reset_process_peak
from perfci.measure.recorder import Recorded, detect_backend, memory_metrics
from perfci.params import benchmark_params
from perfci.results import Metric

_SUBCLASSES: dict[type, type] = {}


def _needs_sync() -> bool:
    """Whether a benchmark's output may still be computing when its call returns."""
    if "mlx.core" in sys.modules:
        return True
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    return bool(torch.cuda.is_initialized() or torch.backends.mps.is_available())


def _device_wide() -> Backend | None:
    """The torch accelerator in use, synchronised as a whole when a call returns nothing
    that names its device (CUDA and MPS synchronise every stream, whatever the output)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    for device, in_use in (
        ("cuda", torch.cuda.is_initialized()),
        ("mps", torch.backends.mps.is_available()),
    ):
        if in_use:
            try:
                return get_backend("torch", device)
            except BackendUnavailable:
                return None
    return None


class _Watch:
    """What perfci learns while one plain fixture runs: the backend, memory, the sync."""

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.synced = False
        self.peak_reset = False

    def synced_call(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn`, ending each call with the device's sync; the backend is chosen from the
        first output (an MLX array or a torch tensor), then kept."""
        watch = self
        decided = False
        backend: Backend | None = None

        def call(*args: Any, **kwargs: Any) -> Any:
            nonlocal decided, backend
            output = fn(*args, **kwargs)
            if not decided:
                decided = True
                backend = detect_backend(output) or _device_wide()
                if backend is not None:
                    backend.sync(output)
                    # The peak from here on is the benchmark's, calibration's first call
                    # aside (it allocates what every later call allocates).
                    backend.reset_peak_memory()
                    watch.backend, watch.synced = backend, True
                return output
            if backend is not None:
                backend.sync(output)
            return output

        return call


def _subclass(cls: type) -> type:
    """`cls` with `__call__` and `pedantic` routed through the instance's `_Watch`."""
    if cls not in _SUBCLASSES:

        class Recording(cls):  # type: ignore[misc]
            _perfci_watch: _Watch

            def __call__(self, function_to_benchmark: Any, *args: Any, **kwargs: Any) -> Any:
                return super().__call__(self._perfci_wrap(function_to_benchmark), *args, **kwargs)

            def pedantic(self, target: Any, *args: Any, **kwargs: Any) -> Any:
                return super().pedantic(self._perfci_wrap(target), *args, **kwargs)

            def _perfci_wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
                self._perfci_watch.peak_reset = reset_process_peak()
                return self._perfci_watch.synced_call(fn) if _needs_sync() else fn

        Recording.__name__ = Recording.__qualname__ = cls.__name__
        _SUBCLASSES[cls] = Recording
    return _SUBCLASSES[cls]


def attach(fixture: Any) -> None:
    """Make `fixture` (a pytest-benchmark BenchmarkFixture) record what perfci needs."""
    fixture._perfci_watch = _Watch()
    fixture.__class__ = _subclass(type(fixture))


def recorded(fixture: Any, params: Mapping[str, Any]) -> Recorded | None:
    """The record of an attached fixture after its test, or None when nothing was timed
    (never called, or pytest-benchmark disabled). `params`: the test's parametrisation."""
    stats = getattr(fixture, "stats", None)
    if stats is None or not stats.stats.data:
        return None
    watch: _Watch = fixture._perfci_watch
    latency = tuple(float(s) for s in stats.stats.data)
    metrics = [Metric("latency", "s", "lower", latency)]
    metrics += memory_metrics(process_peak_bytes(), watch.peak_reset, watch.backend)
    # Named as the importer names the same benchmark from pytest-benchmark's JSON, so a
    # suite recorded either way is one series.
    identity = benchmark_params(
        params, getattr(fixture, "param", None), fixture.group, fixture.extra_info
    )
    return Recorded(params=identity, metrics=metrics)


def why_not_recorded(fixture: Any, called: str = "benchmark") -> str:
    """Why a test whose pytest-benchmark fixture ran recorded nothing, in a few words;
    `called`: the fixture the test was to call (`benchmark`, or perfci's `perf`)."""
    if getattr(fixture, "disabled", False):
        return "pytest-benchmark is disabled (--benchmark-disable)"
    return f"the test never called its {called} fixture"
