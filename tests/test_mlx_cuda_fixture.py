"""MLX's GPU path, kept as a fixture: the MLX suites at the full profile on MLX's CUDA
backend (an NVIDIA H200; tests/data/mlx-cuda-h200/README.md), the nearest stand-in for
Metal that runs off a Mac: lazy graphs dispatched to an asynchronous GPU stream, with
`mx.eval` the only synchronisation, and device memory of its own."""

from __future__ import annotations

import gzip
import json
import statistics
from pathlib import Path

import pytest

from perfci.results import BenchmarkResult, RunResult, parse_run

FIXTURE = Path(__file__).parent / "data" / "mlx-cuda-h200" / "perfci.json.gz"
# dense bf16/fp16 tensor-core peak of an H200 (SXM), TFLOP/s: no measurement can beat it
PEAK_TFLOPS = 990.0
MATMUL_WORKLOADS = {"test_gemm", "test_encoder_classify", "test_prefill", "test_decode"}


@pytest.fixture(scope="module")
def run() -> RunResult:
    return parse_run(json.loads(gzip.decompress(FIXTURE.read_bytes())))


def _median(bench: BenchmarkResult, metric: str) -> float:
    return statistics.median(next(m.samples for m in bench.metrics if m.name == metric))


def test_every_mlx_benchmark_ran_on_the_gpu(run: RunResult) -> None:
    assert run.run.status == "passed" and not run.outcomes
    assert len(run.benchmarks) == 42
    for bench in run.benchmarks:
        assert bench.params["backend"] == "mlx", bench.params
        assert bench.params["device"] == "gpu" and bench.params["gpu"] == "NVIDIA H200"
        names = {m.name for m in bench.metrics}
        assert {"latency", "cold_start", "device_peak_memory"} <= names, (bench.name, names)


def test_float32_products_are_named_tf32(run: RunResult) -> None:
    """Every float32 workload built on matrix products says it ran on TF32; nothing in
    float16 or bfloat16 carries the key, and nothing is called plain float32."""
    for bench in run.benchmarks:
        precision = bench.params.get("matmul_precision")
        products = bench.name in MATMUL_WORKLOADS or bench.params.get("kernel") == "sdpa"
        if bench.params.get("dtype") == "float32" and products:
            assert precision == "tf32", (bench.name, bench.params)
        elif bench.params.get("dtype") != "float32":
            assert precision is None, (bench.name, bench.params)


def test_gemm_timings_are_synchronised(run: RunResult) -> None:
    """A product timed without `mx.eval` would take microseconds and read thousands of
    TFLOP/s; every GEMM measured here is below the chip's peak, and the large ones reach
    a good share of it."""
    gemms = [b for b in run.benchmarks if b.name == "test_gemm"]
    assert len(gemms) == 12
    for bench in gemms:
        n = int(bench.params["n"])
        tflops = 2 * n**3 / _median(bench, "latency") / 1e12
        assert tflops < PEAK_TFLOPS, (bench.params, tflops)
        if n == 8192 and bench.params["dtype"] != "float32":
            assert tflops > 0.3 * PEAK_TFLOPS, (bench.params, tflops)


def test_the_half_precision_encoder_scales_with_batch_like_a_gpu(run: RunResult) -> None:
    """On a GPU a BERT-base batch of 16 costs little more than a batch of 1. The float16
    encoder once ran in float32 from its first layer norm on (an uncast norm weight), and
    its latency grew linearly with the batch; now batch 16 costs under twice batch 1."""
    latency = {
        int(b.params["batch"]): _median(b, "latency")
        for b in run.benchmarks
        if b.name == "test_encoder_classify" and b.params["dtype"] == "float16"
    }
    assert set(latency) == {1, 4, 8, 16}
    assert latency[16] < 2 * latency[1], latency
