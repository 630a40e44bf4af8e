"""The bundled suites at the quick profile: every workload that can run here is measured
with its metrics and checked output; every one that cannot is skipped with its reason;
and the timings are of compute, not of graph building."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perfci.results import RunResult, parse_run

ROOT = Path(__file__).parents[1]
SUITES = ROOT / "suites"
LINUX_ONLY = pytest.mark.skipif(
    sys.platform != "linux", reason="expectations are for Linux with CPU-only torch"
)

# (suite, benchmark) → what this Linux machine must record for it.
MEASURED = {
    ("suites/numpy/test_numpy_gemm", "test_gemm"),
    ("suites/mlx/test_mlx_gemm", "test_gemm"),
    ("suites/torch/test_torch_gemm", "test_gemm"),
    ("suites/mlx/test_mlx_encoder", "test_encoder_classify"),
    ("suites/torch/test_torch_encoder", "test_encoder_classify"),
    ("suites/torch/test_torch_embedding", "test_sentence_embedding"),
    ("suites/torch/test_torch_resnet", "test_resnet50"),
    ("suites/mlx/test_mlx_generate", "test_prefill"),
    ("suites/mlx/test_mlx_generate", "test_decode"),
    ("suites/torch/test_torch_generate", "test_prefill"),
    ("suites/torch/test_torch_generate", "test_decode"),
    ("suites/mlx/test_mlx_kernels", "test_kernel"),
    ("suites/torch/test_torch_kernels", "test_kernel"),
    ("suites/coreml/test_coreml_convert", "test_convert"),
    ("suites/coreml/test_coreml_convert", "test_package_size"),
    ("suites/datascience/test_datascience", "test_pca_svd"),
    ("suites/datascience/test_datascience", "test_correlation_matrix"),
}
SKIPPED = {
    ("suites/coreml/test_coreml_predict", "test_load"): "Core ML prediction needs macOS",
    ("suites/coreml/test_coreml_predict", "test_predict"): "Core ML prediction needs macOS",
}
ALLOWED_SKIPS = (
    "Core ML prediction needs macOS",
    "NumPy has no bfloat16",
    "NumPy has no half-precision BLAS",
    "4-bit needs torchao",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    out = tmp_path_factory.mktemp("suites") / "quick.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "--ignore=suites/perfci",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--perfci-json={out}",
            "--perfci-profile=quick",
            "--benchmark-min-rounds=3",
            "--benchmark-max-time=0.05",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    return parse_run(json.loads(out.read_text()))


@LINUX_ONLY
@pytest.mark.slow
def test_every_workload_is_measured_or_skipped_with_its_reason(quick_run: RunResult) -> None:
    measured = {(b.suite, b.name) for b in quick_run.benchmarks}
    assert measured >= MEASURED, f"not measured: {sorted(MEASURED - measured)}"
    for outcome in quick_run.outcomes:
        assert outcome.status == "skipped", (
            f"{outcome.suite}::{outcome.name} failed: {outcome.reason}"
        )
        assert any(r in outcome.reason for r in ALLOWED_SKIPS), outcome.reason
        assert outcome.params.get("backend") or outcome.params.get("dtype"), outcome.params
    skipped = {(o.suite, o.name): o.reason for o in quick_run.outcomes}
    for key, reason in SKIPPED.items():
        assert skipped.get(key) == reason


@LINUX_ONLY
@pytest.mark.slow
def test_every_benchmark_has_its_metrics_and_params(quick_run: RunResult) -> None:
    for bench in quick_run.benchmarks:
        metrics = {m.name: m for m in bench.metrics}
        where = f"{bench.suite}::{bench.name} {bench.params}"
        assert {"latency", "cold_start"} <= set(metrics), where
        assert any(name.startswith("process") for name in metrics), where
        if bench.suite.startswith(("suites/mlx", "suites/numpy", "suites/torch")):
            assert {"backend", "device", "dtype"} <= set(bench.params), where
            assert "throughput" in metrics, where
        if bench.params.get("backend") == "mlx":
            assert "device_peak_memory" in metrics, where
        if bench.name == "test_package_size":
            assert metrics["package_size"].samples[0] > 0, where
    sizes = {
        b.params["precision"]: next(m for m in b.metrics if m.name == "package_size").samples[0]
        for b in quick_run.benchmarks
        if b.name == "test_package_size"
    }
    # Each compression really shrinks the package: float32 > float16 > int8 > 4-bit.
    assert sizes["float32"] > sizes["float16"] > sizes["int8"] > sizes["palettized4"]


def _median_latency(run: RunResult, suite: str, name: str, **params: Any) -> float:
    for bench in run.benchmarks:
        if bench.suite == suite and bench.name == name and params.items() <= bench.params.items():
            return statistics.median(next(m for m in bench.metrics if m.name == "latency").samples)
    raise AssertionError(f"no {suite}::{name} {params}")


def _compute_time(fn: Any, evaluate: Any) -> float:
    """Median of 5 evaluated calls, measured here with an explicit evaluation."""
    evaluate(fn())
    times = []
    for _ in range(5):
        start = time.perf_counter()
        evaluate(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@LINUX_ONLY
@pytest.mark.slow
def test_mlx_suites_time_compute_not_graph_building(quick_run: RunResult) -> None:
    """MLX is lazy: were a suite (or perf) to stop evaluating, its latency would be the
    microseconds of graph building, not the milliseconds of compute measured here."""
    import mlx.core as mx

    sys.path.insert(0, str(SUITES))
    try:
        from workloads import gemm
    finally:
        sys.path.remove(str(SUITES))

    for dtype in ("float32", "bfloat16"):
        a, b = (mx.array(x).astype(getattr(mx, dtype)) for x in gemm.inputs(512))
        compute = _compute_time(lambda a=a, b=b: a @ b, mx.eval)
        graph_only = statistics.median(_timed(lambda a=a, b=b: a @ b) for _ in range(5))
        assert graph_only < compute / 10, "too small a product to tell the two apart"
        latency = _median_latency(
            quick_run, "suites/mlx/test_mlx_gemm", "test_gemm", n=512, dtype=dtype
        )
        assert latency > 0.3 * compute, (
            f"{dtype}: {latency:.2e} s recorded, compute takes {compute:.2e} s"
        )


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_reference_checks_catch_a_broken_kernel() -> None:
    """The tolerance every suite's check uses rejects a product that is slightly wrong."""
    sys.path.insert(0, str(SUITES))
    try:
        from workloads import gemm
    finally:
        sys.path.remove(str(SUITES))
    a, b = gemm.inputs(64)
    check = gemm.checker(a, b, "float32", np.asarray)
    check(a @ b)
    broken = a @ b
    broken[0, 0] += 0.01 * float(np.sqrt(np.mean(broken**2)))
    with pytest.raises(AssertionError, match="max error"):
        check(broken)
