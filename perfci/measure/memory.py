"""Peak memory of this process, per benchmark where the OS allows a reset."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def reset_process_peak() -> bool:
    """Restart the peak-RSS window; True when the OS can (Linux), False when the peak
    stays the process's lifetime maximum (macOS)."""
    try:
        _CLEAR_REFS.write_text("5")  # "5" resets the peak resident set size (VmHWM)
    except OSError:
        return False
    return True


def process_peak_bytes() -> int:
    """Peak resident memory in bytes since the last reset (or process start)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is bytes on macOS and KiB on Linux and the BSDs.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024
