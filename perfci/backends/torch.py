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


def cuda_matmul_precision(torch: Any) -> str:
    """What float32 products on CUDA compute in under this process's switches: TF32 when
    they allow it (`torch.backends.cuda.matmul.fp32_precision = "tf32"`, or the older
    `allow_tf32 = True` / `set_float32_matmul_precision("high" or "medium")`)."""
    matmul = torch.backends.cuda.matmul
    # torch 2.9+: the new switch reflects the older ones too ("none" is the exact default),
    # and reading the older ones raises once the new one has been set.
    current = getattr(matmul, "fp32_precision", None)
    if current is not None:
        return "tf32" if current == "tf32" else "float32"
    reduced = torch.get_float32_matmul_precision() != "highest"
    return "tf32" if reduced or bool(matmul.allow_tf32) else "float32"


def cuda_conv_precision(torch: Any) -> str:
    """What float32 convolutions on CUDA compute in: cuDNN's TF32 switch is on by default
    (`torch.backends.cudnn.conv.fp32_precision = "tf32"`, or the older
    `torch.backends.cudnn.allow_tf32`), unlike the matmul one."""
    cudnn = torch.backends.cudnn
    current = getattr(getattr(cudnn, "conv", None), "fp32_precision", None)
    if current is not None:  # torch 2.9+; the older switch raises once this one is set
        return "tf32" if current == "tf32" else "float32"
    return "tf32" if bool(cudnn.allow_tf32) else "float32"


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

    def matmul_precision(self, dtype: str) -> str | None:
        # Only CUDA has TF32 tensor cores; MPS and the CPU compute float32 in float32.
        # perfci reads the switches rather than setting allow_tf32=False itself: the
        # benchmark measures what the code under test asked for (torch's default is exact
        # float32), and the parameter keeps a TF32 series apart from a float32 one.
        if dtype != "float32" or self._kind != "cuda":
            return None
        return cuda_matmul_precision(self._torch)

    def conv_precision(self, dtype: str) -> str | None:
        """As `matmul_precision`, for convolutions (cuDNN has a switch of its own)."""
        if dtype != "float32" or self._kind != "cuda":
            return None
        return cuda_conv_precision(self._torch)
