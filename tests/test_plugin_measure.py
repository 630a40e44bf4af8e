"""The plugin's measuring, through `pytester`: backend synchronisation, devices, honest
skips, memory, and a plugin import that stays light. These suites import MLX and PyTorch,
which cannot be imported twice in one process, so they run in a fresh pytest process.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from test_plugin import BENCH_ARGS, benchmark, load, metric, outcome

LINUX = sys.platform == "linux"


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _cpu_only_torch() -> bool:
    if not _installed("torch"):
        return False
    return metadata.version("torch").endswith("+cpu") or sys.platform == "darwin"


needs_mlx = pytest.mark.skipif(not _installed("mlx"), reason="MLX is not installed")
# What MLX and PyTorch can do differs by machine; these expectations are for a Linux CI
# runner with CPU-only builds (mlx[cpu], a +cpu torch wheel).
linux_only = pytest.mark.skipif(not LINUX, reason="expectations for a Linux CPU-only runner")


def test_importing_the_plugin_imports_no_framework_or_database(tmp_path: Path) -> None:
    heavy = "('mlx', 'torch', 'coremltools', 'numpy', 'sqlalchemy', 'alembic')"
    code = (
        "import perfci.plugin, sys; "
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_session_without_frameworks_imports_none(pytester: pytest.Pytester) -> None:
    """The whole session, results file included, stays clear of ML frameworks and the
    database when the benchmarks do not use them."""
    pytester.makepyfile(
        test_light="""
        import sys

        HEAVY = ("mlx", "torch", "coremltools", "sqlalchemy", "alembic")

        def test_it(perf):
            perf.use("numpy")
            perf(lambda: sum(range(10)), items=10, unit="adds")

        def test_after_everything():
            assert [m for m in HEAVY if m in sys.modules] == []
        """
    )
    out = pytester.path / "run.json"
    result = pytester.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=2)
    assert benchmark(load(out), "test_it").params == {"backend": "numpy", "device": "cpu"}


@needs_mlx
@linux_only
def test_mlx_is_synchronised_before_the_clock_stops(pytester: pytest.Pytester) -> None:
    """A forgotten `mx.eval` would time graph building (microseconds) instead of the
    matrix products (milliseconds): the synchronised median must be far above it."""
    pytester.makepyfile(
        test_mlx_sync="""
        import mlx.core as mx

        a = mx.random.normal((256, 256))
        mx.eval(a)

        def test_chosen(perf):
            perf.use("mlx")
            perf(lambda: (a @ a) @ a)

        def test_detected(perf):
            perf(lambda: a @ a)

        def test_graph_only_chain(benchmark):
            benchmark(lambda: (a @ a) @ a)

        def test_graph_only_single(benchmark):
            benchmark(lambda: a @ a)
        """
    )
    out = pytester.path / "run.json"
    bench_json = pytester.path / "pytest-benchmark.json"
    result = pytester.runpytest_subprocess(
        *BENCH_ARGS, f"--perfci-json={out}", f"--benchmark-json={bench_json}", timeout=120
    )
    result.assert_outcomes(passed=4)
    run = load(out)
    graph_only = {
        b["name"]: b["stats"]["median"] for b in json.loads(bench_json.read_text())["benchmarks"]
    }
    for name, baseline in (
        ("test_chosen", "test_graph_only_chain"),
        ("test_detected", "test_graph_only_single"),
    ):
        bench = benchmark(run, name)
        assert bench.params == {"backend": "mlx", "device": "cpu"}
        synced = statistics.median(metric(bench, "latency").samples)
        assert synced >= 20 * graph_only[baseline], (name, synced, graph_only[baseline])
        # MLX reports its own peak: at least the output of one product.
        device_peak = metric(bench, "device_peak_memory")
        assert (device_peak.unit, device_peak.direction) == ("bytes", "lower")
        assert device_peak.samples[0] >= 256 * 256 * 4


@needs_mlx
@linux_only
def test_mlx_float64_runs_on_the_cpu_and_a_missing_gpu_skips(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mlx_devices="""
        import mlx.core as mx

        def test_float64_default_device(perf):
            perf.use("mlx")
            x = mx.ones((64,), dtype=mx.float64)

            def check(out):
                assert out.dtype == mx.float64 and mx.all(out == 2).item()

            perf(lambda: x * 2, dtype="float64", check=check)

        def test_float64_cpu(perf):
            perf.use("mlx", device="cpu")
            x = mx.ones((64,), dtype=mx.float64)
            perf(lambda: x + 1, dtype="float64")

        def test_gpu(perf):
            perf.use("mlx", device="gpu")
            raise AssertionError("should have skipped")
        """
    )
    out = pytester.path / "run.json"
    result = pytester.runpytest_subprocess(*BENCH_ARGS, "-rs", f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * MLX GPU (Metal) is not available in this build"])
    run = load(out)
    expected = {"backend": "mlx", "device": "cpu", "dtype": "float64"}
    assert benchmark(run, "test_float64_default_device").params == expected
    assert benchmark(run, "test_float64_cpu").params == expected
    gpu = outcome(run, "test_gpu")
    assert (gpu.status, gpu.reason) == ("skipped", "MLX GPU (Metal) is not available in this build")
    assert gpu.params == {"backend": "mlx", "device": "gpu"}
    assert run.run.status == "passed"


@pytest.mark.skipif(not _cpu_only_torch(), reason="needs a CPU-only build of PyTorch")
@pytest.mark.skipif(not _installed("coremltools"), reason="coremltools is not installed")
@linux_only
def test_torch_on_the_cpu_and_honest_skips(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_backends="""
        import torch

        def test_best_device(perf):
            perf.use("torch")
            x = torch.ones(64)
            perf(lambda: x * 2, check=lambda out: torch.testing.assert_close(out, x + 1))

        def test_detected(perf):
            x = torch.ones(64)
            perf(lambda: x + 1)

        def test_cuda(perf):
            perf.use("torch", device="cuda")
            raise AssertionError("should have skipped")

        def test_mps(perf):
            perf.use("torch", device="mps")
            raise AssertionError("should have skipped")

        def test_coreml(perf):
            perf.use("coreml")
            raise AssertionError("should have skipped")
        """
    )
    out = pytester.path / "run.json"
    result = pytester.runpytest_subprocess(*BENCH_ARGS, "-rs", f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=2, skipped=3)
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED * CUDA not built into this torch",
            "SKIPPED * MPS not built into this torch",
            "SKIPPED * Core ML prediction needs macOS",
        ]
    )
    run = load(out)
    assert run.run.status == "passed"
    for name in ("test_best_device", "test_detected"):
        bench = benchmark(run, name)
        assert bench.params == {"backend": "torch", "device": "cpu"}
        # On the CPU the process peak is the memory figure; there is no device figure.
        assert {m.name for m in bench.metrics} == {"latency", "cold_start", "process_peak_memory"}

    assert {(o.name, o.status, o.reason) for o in run.outcomes} == {
        ("test_cuda", "skipped", "CUDA not built into this torch"),
        ("test_mps", "skipped", "MPS not built into this torch"),
        ("test_coreml", "skipped", "Core ML prediction needs macOS"),
    }
    assert outcome(run, "test_cuda").params == {"backend": "torch", "device": "cuda"}
    assert outcome(run, "test_mps").params == {"backend": "torch", "device": "mps"}
    assert outcome(run, "test_coreml").params == {"backend": "coreml"}


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs a per-benchmark peak (Linux)"
)
def test_process_peak_memory_is_per_benchmark(pytester: pytest.Pytester) -> None:
    """The peak restarts before each benchmark's rounds: a small benchmark that runs after
    a large one does not inherit its peak."""
    pytester.makepyfile(
        test_memory="""
        def test_large(perf):
            perf(lambda: len(b"x" * (96 << 20)))

        def test_small(perf):
            perf(lambda: len(b"x" * 16))
        """
    )
    out = pytester.path / "run.json"
    result = pytester.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(passed=2)
    run = load(out)
    large = metric(benchmark(run, "test_large"), "process_peak_memory").samples[0]
    small = metric(benchmark(run, "test_small"), "process_peak_memory").samples[0]
    assert large - small >= 64 * 2**20, (large, small)
