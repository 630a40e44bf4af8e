"""What a profile means: the workload sizes a suite picks (`perf_sizes`) and how long
pytest-benchmark times each benchmark.

`pytest --perfci-profile=full` and `perfci run --profile full` get the same rounds: the
plugin puts the profile's pytest-benchmark settings before every other argument, so one
given on the command line or in `addopts` still wins.
"""

from __future__ import annotations

from collections.abc import Mapping

# pytest-benchmark settings per profile
PROFILE_ARGS: Mapping[str, tuple[str, ...]] = {
    "quick": ("--benchmark-min-rounds=5", "--benchmark-max-time=0.1"),
    "full": ("--benchmark-min-rounds=20", "--benchmark-max-time=1.0"),
}
PROFILES = tuple(PROFILE_ARGS)
DEFAULT_PROFILE = "quick"
