"""Measuring: the timed call, cold versus warm, throughput and memory probes."""

from perfci.measure.recorder import Perf, Recorded

__all__ = ["Perf", "Recorded"]
