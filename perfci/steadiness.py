"""How steady this machine's speed is: a fixed pure-Python workload timed back to back in
short windows. A shared virtual machine can move between speed states (another guest on
the same core, a CPU quota) on a scale of tenths of a second; the same code then reads
nearly twice as slow in some windows, in one process or between processes, and no
comparison can resolve a change smaller than that without many rounds."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

WINDOW_S = 0.1  # about one benchmark's timing window at the quick profile


@dataclass(frozen=True)
class Steadiness:
    """The median call time of the fastest and the slowest window, in seconds."""

    fastest: float
    slowest: float
    windows: int

    @property
    def spread(self) -> float:
        """slowest / fastest: 1.0 for a perfectly steady machine."""
        return self.slowest / self.fastest


def _work() -> int:
    return sum(k * k for k in range(2000))


def probe(seconds: float = 1.0, window_s: float = WINDOW_S) -> Steadiness:
    """Time `_work` back to back for `seconds`; each window's median call time."""
    medians = []
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        calls = []
        while time.perf_counter() - start < window_s:
            began = time.perf_counter()
            _work()
            calls.append(time.perf_counter() - began)
        medians.append(statistics.median(calls))
    return Steadiness(min(medians), max(medians), len(medians))
