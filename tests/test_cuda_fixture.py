"""A real accelerator's run, kept as a fixture: the torch suites at the full profile on an
NVIDIA H100, where launch is asynchronous and timing needs synchronisation as on MPS."""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

import pytest

from perfci.compare import compare_metrics
from perfci.results import CommitInfo, RunResult, parse_run
from perfci.store import Store, open_store
from perfci.store.ingest import ingest_runs
from perfci.store.queries import run_metrics, run_outcomes

FIXTURE = Path(__file__).parent / "data" / "cuda-h100-full.json"


@pytest.fixture(scope="module")
def gpu_run() -> RunResult:
    return parse_run(json.loads(FIXTURE.read_text()))


def test_the_torch_suites_ran_on_the_gpu(gpu_run: RunResult) -> None:
    torch_benchmarks = [b for b in gpu_run.benchmarks if b.params.get("backend") == "torch"]
    assert len(torch_benchmarks) >= 40
    for bench in torch_benchmarks:
        assert bench.params["device"] == "cuda" and bench.params["gpu"].startswith("NVIDIA H100")
        names = {m.name for m in bench.metrics}
        assert {"latency", "cold_start", "device_peak_memory"} <= names, bench
    assert gpu_run.run.status == "passed"
    assert all(o.status == "skipped" for o in gpu_run.outcomes)


def test_perfci_timings_agree_with_cuda_events(gpu_run: RunResult) -> None:
    """Where the GPU works for a fifth of a millisecond or more, perfci's synchronised
    host-side median and the CUDA-event median agree within 5%; a suite that stopped
    synchronising would record microseconds of launch instead."""
    compared = 0
    for bench in gpu_run.benchmarks:
        metrics = {m.name: m.samples for m in bench.metrics}
        if (
            bench.name != "test_gemm"
            or "cuda_event_latency" not in metrics
            or bench.params["n"] < 4096
        ):
            continue
        ratio = statistics.median(metrics["latency"]) / metrics["cuda_event_latency"][0]
        assert abs(ratio - 1) <= 0.05, (bench.params, ratio)
        compared += 1
    assert compared == 6  # two sizes, three dtypes


def test_the_gpu_run_ingests_and_compares_unchanged_with_itself(
    sqlite_url: str, gpu_run: RunResult
) -> None:
    # Measured in a copy of the tree without git history: the commit comes with ingest.
    assert gpu_run.commit is None
    store: Store = open_store(sqlite_url)
    (stored,) = ingest_runs(store, [dataclasses.replace(gpu_run, commit=CommitInfo(sha="c" * 40))])
    rows = run_metrics(store, stored.run_id)
    verdicts = {
        c.verdict for c in compare_metrics([rows], [rows], run_outcomes(store, stored.run_id))
    }
    store.close()
    # A run against itself is never a change; with one run a side and run-to-run noise
    # only assumed, most verdicts honestly stay inconclusive.
    assert verdicts <= {"unchanged", "inconclusive"}


PLAIN = Path(__file__).parent / "data" / "cuda-h200-plain"


def test_plain_benchmark_fixtures_are_synchronised_on_a_gpu() -> None:
    """pytest-benchmark alone times a CUDA product's launch (microseconds); with perfci's
    plugin the same plain `benchmark` fixture waits for the GPU, within 5% of the CUDA
    events, also when the call returns nothing to name its device."""
    perfci = parse_run(json.loads((PLAIN / "perfci.json").read_text()))
    alone = json.loads((PLAIN / "pytest-benchmark-alone.json").read_text())
    events = json.loads((PLAIN / "events.json").read_text())["test_mm_cuda_events_median_s"]
    launch_only = {b["name"]: b["stats"]["median"] for b in alone["benchmarks"]}
    for bench in perfci.benchmarks:
        latency = next(m for m in bench.metrics if m.name == "latency")
        synced = statistics.median(latency.samples)
        assert abs(synced / events - 1) < 0.05, (bench.name, synced, events)
        assert launch_only[bench.name] < 0.01 * events, (bench.name, launch_only)
        peak = next(m for m in bench.metrics if m.name == "device_peak_memory")
        assert peak.samples[0] >= 4096 * 4096 * 4  # at least one 64 MiB product
