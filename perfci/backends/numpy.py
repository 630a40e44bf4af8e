"""NumPy: synchronous on the CPU, its memory is the process's own."""

from __future__ import annotations

from typing import Any

from perfci.backends.base import MemoryReading


class NumpyBackend:
    name = "numpy"

    def __init__(self, device: str | None = None) -> None:
        self.info: dict[str, str] = {}
        self.device = device or "cpu"

    def sync(self, output: Any) -> None:
        """NumPy returns only once the work is done."""

    def reset_peak_memory(self) -> None:
        """Covered by the process peak."""

    def device_memory(self) -> MemoryReading | None:
        return None

    def check_dtype(self, dtype: str) -> None:
        """Every NumPy dtype computes on the CPU."""

    def matmul_precision(self, dtype: str) -> str | None:
        return None
