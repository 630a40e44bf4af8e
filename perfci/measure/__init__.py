"""Measuring: the timed call, cold versus warm, throughput and memory probes."""
