"""The `perf` object a benchmark calls: one timed workload, measured the same way everywhere.

pytest-benchmark keeps its calibration, rounds and statistics; perfci wraps the function so
the device is synchronised before its clock stops, times the first (cold) call on its own,
checks the output once, and reads process and device memory around the warm rounds.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from perfci.backends import Backend, BackendUnavailable, get_backend
from perfci.measure.memory import process_peak_bytes, reset_process_peak
from perfci.params import ParamError, plain_params
from perfci.results import Metric


class PerfUsageError(Exception):
    """A benchmark used `perf` wrongly; the message says how to fix it."""


@dataclass
class Recorded:
    """What one benchmark measured, with the parameters that identify it."""

    params: dict[str, Any]
    metrics: list[Metric] = field(default_factory=list)


def _first_leaf(output: Any) -> Any:
    """The first array-like leaf of a (possibly nested) output."""
    while isinstance(output, (list, tuple, dict)) and output:
        output = next(iter(output.values())) if isinstance(output, dict) else output[0]
    return output


def detect_backend(output: Any) -> Backend | None:
    """The backend that produced `output`, judged by its type, without importing any
    framework the benchmark did not import itself."""
    leaf = _first_leaf(output)
    module = type(leaf).__module__
    if module.startswith("mlx") and "mlx.core" in sys.modules:
        return get_backend("mlx")
    if module.startswith("torch") and "torch" in sys.modules:
        return get_backend("torch", device=str(leaf.device))
    return None


def memory_metrics(process_peak: int, reset: bool, backend: Backend | None) -> list[Metric]:
    """The memory metrics of one benchmark: the process's peak resident memory (since the
    reset before the benchmark where the OS allows one, else over the process's life),
    and the device's own figure where the backend has one."""
    name = "process_peak_memory" if reset else "process_lifetime_peak_memory"
    metrics = [Metric(name, "bytes", "lower", (float(process_peak),))]
    reading = backend.device_memory() if backend is not None else None
    if reading is not None:
        metrics.append(Metric(reading.metric, "bytes", "lower", (float(reading.bytes),)))
    return metrics


class Perf:
    """Measure one workload; see `__call__`. Created per test by the `perf` fixture."""

    def __init__(
        self,
        benchmark: Any,
        params: dict[str, Any],
        profile: str,
        warmup: int,
        on_record: Callable[[Recorded], None],
        devices: Mapping[str, str] | None = None,
    ) -> None:
        self._benchmark = benchmark
        # Shared with the session, so a skip or failure is reported with what was learned.
        self._params = params
        self._warmup = warmup
        self._on_record = on_record
        self._devices = dict(devices or {})
        self._backend: Backend | None = None
        self._recorded: Recorded | None = None
        self._extra: list[Metric] = []
        self._used = False
        self.profile = profile

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    def param(self, **params: Any) -> None:
        """Add parameters that identify this benchmark (dtype, batch, quantization...)."""
        try:
            self._params.update(plain_params(params))
        except ParamError as exc:
            raise PerfUsageError(str(exc)) from None

    def metric(
        self, name: str, value: float, unit: str, direction: Literal["lower", "higher"] = "lower"
    ) -> None:
        """Record one more single-value metric of this benchmark, e.g. a model's size on
        disk; it is stored with the timed call's metrics."""
        if direction not in ("lower", "higher"):
            raise PerfUsageError("direction is 'lower' or 'higher' (which is better)")
        if not math.isfinite(value):
            raise PerfUsageError(f"metric {name} must be a finite number, not {value}")
        measured = Metric(name, unit, direction, (float(value),))
        if self._recorded is not None:
            self._recorded.metrics.append(measured)
        else:
            self._extra.append(measured)

    def use(self, backend: str, device: str | None = None, dtype: str | None = None) -> Backend:
        """Choose the backend (and device, and dtype) before building inputs; skips with
        the reason when the combination cannot run here (float64 on MPS, say). A device
        left None is --perfci-device's for this backend, else the backend's best."""
        import pytest

        device = device if device is not None else self._devices.get(backend)
        self._params["backend"] = backend
        if device is not None:
            self._params["device"] = device
        if dtype is not None:
            self.param(dtype=dtype)
        try:
            chosen = get_backend(backend, device)
            self._params["device"] = chosen.device
            self._params.update(chosen.info)
            if dtype is not None:
                chosen.check_dtype(dtype)
                self._record_precision(chosen, dtype)
        except BackendUnavailable as exc:
            pytest.skip(str(exc))
        self._backend = chosen
        return chosen

    def _record_precision(self, backend: Backend, dtype: str) -> None:
        """Name the precision products really compute in where it can differ from the
        dtype (TF32 for float32 on an NVIDIA GPU): a TF32 series is never float32's."""
        precision = backend.matmul_precision(dtype)
        if precision is None:
            self._params.pop("matmul_precision", None)
        else:
            self._params["matmul_precision"] = precision

    def __call__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        items: float | None = None,
        unit: str | None = None,
        dtype: str | None = None,
        check: Callable[[Any], object] | None = None,
        rounds: int | None = None,
        warmup: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Time `fn(*args, **kwargs)` and return the output of its first call.

        items/unit: work per call for throughput (e.g. items=batch, unit="images").
        dtype: recorded in params; a device that cannot compute in it skips.
        check: called once with the first output; raise to fail (correct before fast).
        rounds: a fixed number of timed rounds of one call each, for workloads that take
            seconds (conversion, compilation); otherwise pytest-benchmark calibrates.
        warmup: untimed calls between the cold call and the rounds (default:
            --perfci-warmup).
        """
        import pytest

        if self._used:
            raise PerfUsageError("perf can time one workload per test; parametrize for more")
        self._used = True
        if (items is None) != (unit is None):
            raise PerfUsageError("give items and unit together, e.g. items=batch, unit='images'")
        if rounds is not None and rounds < 1:
            raise PerfUsageError("rounds must be at least 1")
        if warmup is not None and warmup < 0:
            raise PerfUsageError("warmup must be 0 or more")
        if dtype is not None:
            self.param(dtype=dtype)
            if self._backend is not None:
                try:
                    self._backend.check_dtype(dtype)
                except BackendUnavailable as exc:
                    pytest.skip(str(exc))
                self._record_precision(self._backend, dtype)

        reset_process_peak()
        start = time.perf_counter()
        output = fn(*args, **kwargs)
        backend = self._backend or detect_backend(output)
        if backend is not None:
            backend.sync(output)
        cold = time.perf_counter() - start
        if backend is not None:
            self._params.setdefault("backend", backend.name)
            self._params.setdefault("device", backend.device)
            for key, value in backend.info.items():
                self._params.setdefault(key, value)
        if check is not None:
            check(output)

        def timed() -> None:
            result = fn(*args, **kwargs)
            if backend is not None:
                backend.sync(result)

        for _ in range(self._warmup if warmup is None else warmup):
            timed()
        if backend is not None:
            backend.reset_peak_memory()
        per_benchmark_peak = reset_process_peak()
        if rounds is None:
            self._benchmark(timed)
        else:
            self._benchmark.pedantic(timed, rounds=rounds, iterations=1)
        stats = getattr(self._benchmark, "stats", None)
        if stats is None:  # pytest-benchmark is disabled: the call ran once, unmeasured
            return output

        latency = tuple(float(s) for s in stats.stats.data)
        metrics = [
            Metric("latency", "s", "lower", latency),
            Metric("cold_start", "s", "lower", (cold,)),
        ]
        if items is not None and unit is not None:
            metrics.append(
                Metric("throughput", f"{unit}/s", "higher", tuple(items / s for s in latency))
            )
        metrics += memory_metrics(process_peak_bytes(), per_benchmark_peak, backend)
        self._benchmark.extra_info.update(
            {"perfci_params": self.params, "cold_start_s": cold}
            | {m.name: m.samples[0] for m in metrics if len(m.samples) == 1}
        )
        self._recorded = Recorded(params=self.params, metrics=[*metrics, *self._extra])
        self._on_record(self._recorded)
        return output
