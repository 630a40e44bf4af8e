"""MLX: lazy arrays on unified memory. Nothing runs until `mx.eval`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from perfci.backends.base import BackendUnavailable, MemoryReading

# MLX's CUDA backend runs float32 products on TF32 tensor cores unless this variable is
# 0; MLX reads it once per process (mlx/utils.h, env::enable_tf32, default 1).
TF32_VARIABLE = "MLX_ENABLE_TF32"


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


def _on_cuda(mx: Any) -> bool:
    """Whether MLX's GPU is an NVIDIA one (the CUDA backend) rather than Metal."""
    cuda = getattr(mx, "cuda", None)  # mlx.core.cuda exists since the CUDA backend did
    return bool(cuda is not None and cuda.is_available())


def cuda_matmul_precision(environ: Mapping[str, str]) -> str:
    """What MLX's CUDA backend computes float32 products in, read as MLX reads its
    variable (C `atoi`: leading digits, anything else 0)."""
    match = re.match(r"\s*[+-]?\d+", environ.get(TF32_VARIABLE, "1"))
    return "tf32" if match and int(match.group()) != 0 else "float32"


class MlxBackend:
    name = "mlx"

    def __init__(self, device: str | None = None) -> None:
        self.info: dict[str, str] = {}
        mx = _core()
        if device is not None:
            if device not in ("cpu", "gpu"):
                raise BackendUnavailable(f"MLX has no device {device!r} (cpu or gpu)")
            if device == "gpu" and not mx.is_available(mx.gpu):
                raise BackendUnavailable(
                    "MLX has no GPU in this build (Metal on macOS, mlx[cuda13] on Linux)"
                )
            mx.set_default_device(mx.gpu if device == "gpu" else mx.cpu)
        self._mx = mx
        self.device = "gpu" if mx.default_device() == mx.gpu else "cpu"
        self._cuda = self.device == "gpu" and _on_cuda(mx)
        if self._cuda:
            # A discrete GPU is not in the machine's fingerprint: name it, as torch does.
            self.info["gpu"] = str(mx.device_info(mx.gpu).get("device_name", "CUDA GPU"))

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

    def matmul_precision(self, dtype: str) -> str | None:
        # Metal and the CPU compute float32 products in float32. On CUDA perfci records
        # the precision rather than setting MLX_ENABLE_TF32=0 itself: the benchmark then
        # measures what the code under test computes by default, and a float32 series and
        # a TF32 one stay two benchmarks. Set the variable to 0 to measure exact float32.
        if dtype != "float32" or not self._cuda:
            return None
        return cuda_matmul_precision(os.environ)
