"""Core ML: `predict` is synchronous; it runs only on macOS."""

from __future__ import annotations

from typing import Any

from perfci.backends.base import BackendUnavailable, MemoryReading
from perfci.environment import is_macos, running_under_rosetta

COMPUTE_UNITS = ("ALL", "CPU_ONLY", "CPU_AND_GPU", "CPU_AND_NE")


def prediction_unavailable_reason() -> str | None:
    """Why Core ML cannot predict here, or None when it can."""
    try:
        import coremltools  # noqa: F401
    except ImportError as exc:
        return f"coremltools is not installed ({exc}); pip install 'perfci[coreml]'"
    if not is_macos():
        return "Core ML prediction needs macOS"
    if running_under_rosetta():
        return "Core ML under Rosetta cannot use the GPU or Neural Engine; use an arm64 Python"
    return None


class CoremlBackend:
    name = "coreml"

    def __init__(self, device: str | None = None) -> None:
        self.info: dict[str, str] = {}
        reason = prediction_unavailable_reason()
        if reason:
            raise BackendUnavailable(reason)
        self.device = device or "ALL"
        if self.device not in COMPUTE_UNITS:
            raise BackendUnavailable(
                f"unknown Core ML compute units {self.device!r} ({', '.join(COMPUTE_UNITS)})"
            )

    def sync(self, output: Any) -> None:
        """`MLModel.predict` returns its outputs only when they are computed."""

    def reset_peak_memory(self) -> None:
        """Core ML reports no device memory; the process peak covers it."""

    def device_memory(self) -> MemoryReading | None:
        return None

    def check_dtype(self, dtype: str) -> None:
        """Precision is fixed at conversion time."""

    def matmul_precision(self, dtype: str) -> str | None:
        return None
