"""What every backend offers the measuring loop: availability, sync and memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class BackendUnavailable(Exception):
    """This backend, device or combination cannot run here; the message says why."""


@dataclass(frozen=True)
class MemoryReading:
    """A device-memory figure and what it means (peak, or allocated with no peak API)."""

    metric: str
    bytes: int


class Backend(Protocol):
    name: str
    device: str
    # Parameters that name the hardware behind `device` where the machine's fingerprint
    # does not (a discrete GPU's model); they become part of the benchmark's identity.
    info: dict[str, str]

    def sync(self, output: Any) -> None:
        """Block until all work that produced `output` has finished."""

    def reset_peak_memory(self) -> None:
        """Start a new peak-memory window."""

    def device_memory(self) -> MemoryReading | None:
        """Device memory since the last reset, or None where the backend has none apart
        from the process's own memory."""

    def check_dtype(self, dtype: str) -> None:
        """Raise BackendUnavailable for a dtype this device cannot compute in."""

    def matmul_precision(self, dtype: str) -> str | None:
        """The precision this device's matrix products of `dtype` really compute in
        (`tf32` for float32 on TF32 tensor cores), where it can differ from `dtype`;
        None where it cannot (a CPU, Metal), so those benchmarks keep their identity."""
