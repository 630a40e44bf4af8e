"""PyTorch: asynchronous on MPS and CUDA, so every timed call ends with a synchronize."""

from __future__ import annotations

from typing import Any

from perfci.backends.base import BackendUnavailable, MemoryReading


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise BackendUnavailable(
            f"PyTorch is not installed ({exc}); pip install 'perfci[torch]'"
        ) from exc
    return torch


def mps_unavailable_reason(torch: Any) -> str | None:
    if not torch.backends.mps.is_built():
        return "MPS not built into this torch"
    if not torch.backends.mps.is_available():
        return "MPS not available on this machine (needs Apple Silicon and macOS 12.3+)"
    return None


def cuda_unavailable_reason(torch: Any) -> str | None:
    if torch.version.cuda is None:
        return "CUDA not built into this torch"
    if not torch.cuda.is_available():
        return "no CUDA device is visible"
    return None


def best_device(torch: Any) -> str:
    """MPS, then CUDA, then CPU: the order a Mac mini and a CI stand-in want."""
    if mps_unavailable_reason(torch) is None:
        return "mps"
    if cuda_unavailable_reason(torch) is None:
        return "cuda"
    return "cpu"


class TorchBackend:
    name = "torch"

    def __init__(self, device: str | None = None) -> None:
        torch = _torch()
        device = device or best_device(torch)
        kind = device.split(":")[0]
        if kind == "mps":
            reason = mps_unavailable_reason(torch)
        elif kind == "cuda":
            reason = cuda_unavailable_reason(torch)
        elif kind == "cpu":
            reason = None
        else:
            reason = f"unknown torch device {device!r} (mps, cuda or cpu)"
        if reason:
            raise BackendUnavailable(reason)
        self._torch = torch
        self._kind = kind
        self.device = device
        self.info: dict[str, str] = (
            {"gpu": str(torch.cuda.get_device_name(device))} if kind == "cuda" else {}
        )

    def sync(self, output: Any) -> None:
        if self._kind == "cuda":
            self._torch.cuda.synchronize(self.device)
        elif self._kind == "mps":
            self._torch.mps.synchronize()

    def reset_peak_memory(self) -> None:
        if self._kind == "cuda":
            self._torch.cuda.reset_peak_memory_stats(self.device)

    def device_memory(self) -> MemoryReading | None:
        if self._kind == "cuda":
            peak = self._torch.cuda.max_memory_allocated(self.device)
            return MemoryReading("device_peak_memory", int(peak))
        if self._kind == "mps":
            # MPS keeps no peak: what is allocated after the timed calls, outputs still alive.
            allocated = self._torch.mps.current_allocated_memory()
            return MemoryReading("device_allocated_memory", int(allocated))
        return None

    def check_dtype(self, dtype: str) -> None:
        if dtype == "float64" and self._kind == "mps":
            raise BackendUnavailable("MPS has no float64; use float32 or run on the CPU")
