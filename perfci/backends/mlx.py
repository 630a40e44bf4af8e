"""MLX: lazy arrays on unified memory. Nothing runs until `mx.eval`."""

from __future__ import annotations

from typing import Any

from perfci.backends.base import BackendUnavailable, MemoryReading


def _core() -> Any:
    try:
        import mlx.core as mx
    except ImportError as exc:
        raise BackendUnavailable(
            f"MLX is not installed ({exc}); pip install 'perfci[mlx]'"
        ) from exc
    return mx


def _memory_api(mx: Any, name: str) -> Any:
    # Top-level since mlx 0.24.1; older releases keep them under mx.metal.
    fn = getattr(mx, name, None)
    return fn if fn is not None else getattr(mx.metal, name)


class MlxBackend:
    name = "mlx"

    def __init__(self, device: str | None = None) -> None:
        self.info: dict[str, str] = {}
        mx = _core()
        if device is not None:
            if device not in ("cpu", "gpu"):
                raise BackendUnavailable(f"MLX has no device {device!r} (cpu or gpu)")
            if device == "gpu" and not mx.is_available(mx.gpu):
                raise BackendUnavailable("MLX GPU (Metal) is not available in this build")
            mx.set_default_device(mx.gpu if device == "gpu" else mx.cpu)
        self._mx = mx
        self.device = "gpu" if mx.default_device() == mx.gpu else "cpu"

    def sync(self, output: Any) -> None:
        # Evaluate everything the call returned: timing stops after compute, not graph building.
        self._mx.eval(output)

    def reset_peak_memory(self) -> None:
        _memory_api(self._mx, "reset_peak_memory")()

    def device_memory(self) -> MemoryReading | None:
        return MemoryReading("device_peak_memory", int(_memory_api(self._mx, "get_peak_memory")()))

    def check_dtype(self, dtype: str) -> None:
        if dtype == "float64" and self.device == "gpu":
            raise BackendUnavailable("MLX has no float64 on the GPU")
