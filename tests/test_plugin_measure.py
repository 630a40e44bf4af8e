"""The plugin's measuring, through `pytester`: the metrics of a benchmark, the `perf` call
(check, misuse), backend synchronisation, devices, honest skips, memory, and a plugin
import that stays light. Suites that import MLX or PyTorch run in a fresh pytest process:
neither can be imported twice in one process, and pytester's in-process runs forget
modules imported during the run.
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
from test_plugin import BENCH_ARGS, INI, load, measured, metric, outcome

LINUX = sys.platform == "linux"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory configured like the project's suites (see test_plugin.INI)."""
    pytester.makeini(INI)
    return pytester


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


def test_results_file_has_the_metrics_of_each_benchmark(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_metrics="""
        import pytest

        @pytest.mark.parametrize("n", [10, 20])
        def test_work(perf, n):
            perf(lambda: sum(range(n)), items=4, unit="images")

        def test_plain(perf):
            perf(lambda: sum(range(5)))
        """
    )
    out = suite.path / "out" / "run.json"
    bench_json = suite.path / "pytest-benchmark.json"
    result = suite.runpytest_inprocess(
        *BENCH_ARGS, f"--perfci-json={out}", f"--benchmark-json={bench_json}"
    )
    result.assert_outcomes(passed=3)

    doc = json.loads(out.read_text())
    assert (doc["format"], doc["format_version"]) == ("perfci-run", 1)
    run = load(out)
    assert run.run.status == "passed"
    assert run.run.profile == "quick"
    assert run.outcomes == ()
    assert sorted((b.name, b.params.get("n")) for b in run.benchmarks) == [
        ("test_plain", None),
        ("test_work", 10),
        ("test_work", 20),
    ]
    assert {b.suite for b in run.benchmarks} == {"test_metrics"}

    # Latency is pytest-benchmark's own per-round data, all of it.
    rounds = {
        b["name"]: (b["stats"]["rounds"], b["stats"]["data"])
        for b in json.loads(bench_json.read_text())["benchmarks"]
    }
    for bench in run.benchmarks:
        node = "test_plain" if bench.name == "test_plain" else f"test_work[{bench.params['n']}]"
        n_rounds, data = rounds[node]
        latency = metric(bench, "latency")
        assert (latency.unit, latency.direction) == ("s", "lower")
        assert len(latency.samples) == n_rounds >= 3
        assert list(latency.samples) == data

        cold = metric(bench, "cold_start")
        assert (cold.unit, cold.direction) == ("s", "lower")
        assert len(cold.samples) == 1
        assert cold.samples[0] > 0

        peak_names = {"process_peak_memory", "process_lifetime_peak_memory"}
        (peak,) = [m for m in bench.metrics if m.name in peak_names]
        assert (peak.unit, peak.direction, len(peak.samples)) == ("bytes", "lower", 1)
        # Bytes, not KiB: a Python process running pytest holds megabytes.
        assert 4 * 2**20 < peak.samples[0] < 2**40

    for n in (10, 20):
        bench = measured(run, "test_work", n=n)
        throughput = metric(bench, "throughput")
        assert (throughput.unit, throughput.direction) == ("images/s", "higher")
        per_round = metric(bench, "latency").samples
        assert throughput.samples == pytest.approx([4 / s for s in per_round], rel=1e-12)
        assert len(bench.metrics) == 4  # latency, cold start, throughput, process memory

    plain = measured(run, "test_plain")
    assert "throughput" not in {m.name for m in plain.metrics}
    assert len(plain.metrics) == 3


def test_a_failing_check_fails_the_test(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_check="""
        def test_wrong(perf):
            def check(out):
                assert out == 2, "wrong answer"
            perf(lambda: 1, check=check)

        def test_right(perf):
            seen = []
            out = perf(lambda: 40 + 2, check=seen.append)
            assert out == 42  # the output of the first call
            assert seen == [42]  # checked once
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_check.py::test_wrong - AssertionError: wrong answer"])
    run = load(out)
    assert [b.name for b in run.benchmarks] == ["test_right"]
    wrong = outcome(run, "test_wrong")
    assert (wrong.status, wrong.reason) == ("error", "call: AssertionError: wrong answer")
    assert run.run.status == "failed"


def test_misusing_perf_fails_with_a_clear_message(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_misuse="""
        def test_twice(perf):
            perf(lambda: 1)
            perf(lambda: 2)

        def test_items_without_unit(perf):
            perf(lambda: 1, items=4)

        def test_unit_without_items(perf):
            perf(lambda: 1, unit="images")
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "E *.PerfUsageError: perf can time one workload per test; parametrize for more",
            "E *.PerfUsageError: give items and unit together, e.g. items=batch, unit='images'",
            "E *.PerfUsageError: give items and unit together, e.g. items=batch, unit='images'",
        ]
    )
    run = load(out)
    assert run.benchmarks == ()  # test_twice measured once, then failed: not a measurement
    reasons = {o.name: (o.status, o.reason) for o in run.outcomes}
    assert reasons == {
        "test_twice": (
            "error",
            "call: perfci.measure.recorder.PerfUsageError: perf can time one workload per test;"
            " parametrize for more",
        ),
        "test_items_without_unit": (
            "error",
            "call: perfci.measure.recorder.PerfUsageError: give items and unit together,"
            " e.g. items=batch, unit='images'",
        ),
        "test_unit_without_items": (
            "error",
            "call: perfci.measure.recorder.PerfUsageError: give items and unit together,"
            " e.g. items=batch, unit='images'",
        ),
    }


def test_importing_the_plugin_imports_no_framework_or_database(tmp_path: Path) -> None:
    heavy = "('mlx', 'torch', 'coremltools', 'numpy', 'sqlalchemy', 'alembic')"
    code = f"import perfci.plugin, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_session_without_frameworks_imports_none(suite: pytest.Pytester) -> None:
    """The whole session, results file included, stays clear of ML frameworks and the
    database when the benchmarks do not use them."""
    suite.makepyfile(
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
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=2)
    assert measured(load(out), "test_it").params == {"backend": "numpy", "device": "cpu"}


@needs_mlx
@linux_only
def test_mlx_is_synchronised_before_the_clock_stops(suite: pytest.Pytester) -> None:
    """A forgotten `mx.eval` would time graph building (microseconds) instead of the
    matrix products (milliseconds): the synchronised median must be far above it. The
    graph-only reference is pytest-benchmark alone (the plugin left out), since with the
    plugin a plain `benchmark` fixture is synchronised too."""
    suite.makepyfile(
        test_mlx_sync="""
        import mlx.core as mx

        a = mx.random.normal((256, 256))
        mx.eval(a)

        def test_chosen(perf):
            perf.use("mlx")
            perf(lambda: (a @ a) @ a)

        def test_detected(perf):
            perf(lambda: a @ a)

        def test_plain_chain(benchmark):
            benchmark(lambda: (a @ a) @ a)

        def test_plain_single(benchmark):
            benchmark.pedantic(lambda: a @ a, rounds=20, iterations=2)
        """
    )
    out = suite.path / "run.json"
    bench_json = suite.path / "pytest-benchmark.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=4)
    alone = suite.runpytest_subprocess(
        *BENCH_ARGS, "-p", "no:perfci", "-k", "plain", f"--benchmark-json={bench_json}",
        timeout=120,
    )  # fmt: skip
    alone.assert_outcomes(passed=2)
    run = load(out)
    graph_only = {
        b["name"]: b["stats"]["median"] for b in json.loads(bench_json.read_text())["benchmarks"]
    }
    for name, baseline in (
        ("test_chosen", "test_plain_chain"),
        ("test_detected", "test_plain_single"),
        ("test_plain_chain", "test_plain_chain"),
        ("test_plain_single", "test_plain_single"),
    ):
        bench = measured(run, name)
        assert bench.params == ({} if "plain" in name else {"backend": "mlx", "device": "cpu"})
        synced = statistics.median(metric(bench, "latency").samples)
        assert synced >= 20 * graph_only[baseline], (name, synced, graph_only[baseline])
        # MLX reports its own peak: at least the output of one product.
        device_peak = metric(bench, "device_peak_memory")
        assert (device_peak.unit, device_peak.direction) == ("bytes", "lower")
        assert device_peak.samples[0] >= 256 * 256 * 4


@needs_mlx
@linux_only
def test_mlx_float64_runs_on_the_cpu_and_a_missing_gpu_skips(suite: pytest.Pytester) -> None:
    suite.makepyfile(
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
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, "-rs", f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * MLX has no GPU in this build *"])
    run = load(out)
    expected = {"backend": "mlx", "device": "cpu", "dtype": "float64"}
    assert measured(run, "test_float64_default_device").params == expected
    assert measured(run, "test_float64_cpu").params == expected
    gpu = outcome(run, "test_gpu")
    assert gpu.status == "skipped"
    assert gpu.reason == "MLX has no GPU in this build (Metal on macOS, mlx[cuda13] on Linux)"
    assert gpu.params == {"backend": "mlx", "device": "gpu"}
    assert run.run.status == "passed"


@pytest.mark.skipif(not _cpu_only_torch(), reason="needs a CPU-only build of PyTorch")
@pytest.mark.skipif(not _installed("coremltools"), reason="coremltools is not installed")
@linux_only
def test_torch_on_the_cpu_and_honest_skips(suite: pytest.Pytester) -> None:
    suite.makepyfile(
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
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, "-rs", f"--perfci-json={out}", timeout=120)
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
        bench = measured(run, name)
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
def test_process_peak_memory_covers_the_warm_rounds_of_one_benchmark(
    suite: pytest.Pytester,
) -> None:
    """The peak restarts before each benchmark's timed rounds: neither a large benchmark
    before it nor its own cold call (a model load, say) counts."""
    suite.makepyfile(
        test_memory="""
        LARGE = 96 << 20

        def test_large(perf):
            perf(lambda: len(b"x" * LARGE))

        def test_large_only_when_cold(perf):
            calls = []

            def work():
                calls.append(1)
                return len(b"x" * (LARGE if len(calls) == 1 else 16))

            perf(work)

        def test_small(perf):
            perf(lambda: len(b"x" * 16))
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(passed=3)
    run = load(out)
    peaks = {
        b.name: metric(b, "process_peak_memory").samples[0]
        for b in run.benchmarks  # the metric name says the peak was reset (not lifetime)
    }
    assert peaks["test_large"] - peaks["test_small"] >= 64 * 2**20, peaks
    assert peaks["test_large"] - peaks["test_large_only_when_cold"] >= 64 * 2**20, peaks
