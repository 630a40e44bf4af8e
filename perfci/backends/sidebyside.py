"""Backends side by side: one workload's latency on every backend one run measured it on,
the fastest marked and each one's ratio to it ("where each library wins").

The rule of what "the same workload" is lives here alone. A benchmark's parameters say
either *what* is computed (size, batch, dtype, sequence length, model, quantization...)
or *how*: the backend and what it runs on and with (`BACKEND_PARAMS`). Two benchmarks
of one run are the same workload when their test names and their what-parameters are
equal, whatever their suites (`suites/mlx/test_mlx_gemm::test_gemm` and
`suites/torch/test_torch_gemm::test_gemm` at one n and dtype). Benchmarks that name no
backend (timed without `perf.use`) are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from perfci.results import canonical_params

# How a workload runs, not what it is: the backend, its device (Core ML: compute units),
# the GPU's model, eager or compiled, and the precision float32 products really use.
BACKEND_PARAMS = (
    "backend", "device", "gpu", "units", "mode", "matmul_precision", "conv_precision",
)  # fmt: skip


@dataclass(frozen=True)
class Timing:
    """One benchmark's median latency in a run."""

    suite: str
    name: str
    params: dict[str, Any]
    latency: float  # seconds, the median


@dataclass(frozen=True)
class Entry:
    """One backend's line of a workload's table."""

    label: str  # the backend-side parameters' values, e.g. "torch · cuda · tf32"
    suite: str
    params: dict[str, Any]
    latency: float
    ratio: float  # latency / the fastest's: 1.0 for the fastest
    fastest: bool


@dataclass(frozen=True)
class WorkloadTable:
    name: str
    shared: dict[str, Any]  # the what-parameters every entry has in common
    entries: tuple[Entry, ...]  # fastest first


def shared_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that say what a benchmark computes."""
    return {k: v for k, v in params.items() if k not in BACKEND_PARAMS}


def backend_label(params: dict[str, Any]) -> str:
    """How the workload ran: the backend-side values, in BACKEND_PARAMS order; the
    device is left out where it repeats Core ML's compute units."""
    values = [str(params[k]) for k in BACKEND_PARAMS if k in params]
    if params.get("units") is not None and params.get("device") == params["units"]:
        values.remove(str(params["units"]))
    return " · ".join(values)


def side_by_side(timings: Iterable[Timing]) -> list[WorkloadTable]:
    """A table per workload measured on more than one backend setting, by test name and
    then shared parameters; a workload seen on one setting only compares nothing."""
    groups: dict[tuple[str, str], list[Timing]] = defaultdict(list)
    for t in timings:
        if "backend" in t.params and t.latency > 0:
            groups[(t.name, canonical_params(shared_params(t.params)))].append(t)
    tables = []
    for (name, _), members in sorted(groups.items()):
        if len({backend_label(t.params) for t in members}) < 2:
            continue
        best = min(t.latency for t in members)
        labels = [backend_label(t.params) for t in members]
        entries = tuple(
            sorted(
                (
                    Entry(
                        # Two suites measuring one workload on one backend: name the suite.
                        f"{label} ({t.suite})" if labels.count(label) > 1 else label,
                        t.suite,
                        t.params,
                        t.latency,
                        t.latency / best,
                        t.latency == best,
                    )
                    for label, t in zip(labels, members, strict=True)
                ),
                key=lambda e: (e.latency, e.label),
            )
        )
        tables.append(WorkloadTable(name, shared_params(members[0].params), entries))
    return tables
