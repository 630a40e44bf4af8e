"""Suites written for pytest-benchmark alone: plain `benchmark` and `benchmark.pedantic`
uses are recorded like `perf`, named as the importer names them from pytest-benchmark's
JSON, synchronised only where a lazy or asynchronous framework is in play, and a run
that measured nothing says so and why."""

from __future__ import annotations

import importlib.util
import json

import pytest
from test_plugin import BENCH_ARGS, INI, load, measured, metric

from perfci.store.importers import load_results_file

SUITE = """
import numpy as np
import pytest


class Shape:  # a parameter whose default repr changes from run to run
    pass


@pytest.mark.parametrize("n", [8, 64])
def test_sum(benchmark, n):
    benchmark.extra_info["rows"] = n * 2       # a whole number: names the variant
    benchmark.extra_info["accuracy"] = 0.5     # a fraction: a result, not a name
    benchmark.extra_info["notes"] = ["a"]      # not a plain value: left out
    x = np.ones(n)
    assert benchmark(np.sum, x) == n


@pytest.mark.parametrize("dtype", [np.dtype("float32"), np.dtype("float64")])
@pytest.mark.parametrize("shape", [Shape(), Shape()])
def test_pedantic(benchmark, dtype, shape):
    benchmark.pedantic(lambda: np.ones(100, dtype=dtype).sum(), rounds=6, iterations=2)


class TestGroup:
    @pytest.mark.benchmark(group="small")
    def test_method(self, benchmark):
        benchmark(sum, range(10))
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_plain_fixtures_are_recorded_with_their_parameters(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_plain=SUITE)
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=7)
    run = load(out)
    assert len(run.benchmarks) == 7 and run.outcomes == ()
    small = measured(run, "test_sum", n=8)
    assert small.params == {"n": 8, "rows": 16}
    assert [m.name for m in small.metrics] == ["latency", "process_peak_memory"]
    assert len(metric(small, "latency").samples) >= 3  # every round, as pytest-benchmark timed
    pedantic = [b for b in run.benchmarks if b.name == "test_pedantic"]
    assert len(pedantic) == 4
    for bench in pedantic:
        assert len(metric(bench, "latency").samples) == 6
        # no stable name for a Shape(): pytest's test id keeps the four variants apart
        assert set(bench.params) == {"dtype", "id"}
    assert {b.params["dtype"] for b in pedantic} == {"dtype('float32')", "dtype('float64')"}
    assert measured(run, "TestGroup.test_method").params == {"group": "small"}


def test_both_routes_name_each_benchmark_alike(suite: pytest.Pytester) -> None:
    """The plugin's results file and pytest-benchmark's JSON of one session hold the same
    benchmarks under the same suite, name and parameters, so either route feeds one
    series."""
    suite.makepyfile(test_plain=SUITE)
    out, bench_json = suite.path / "run.json", suite.path / "bench.json"
    result = suite.runpytest_subprocess(
        *BENCH_ARGS, f"--perfci-json={out}", f"--benchmark-json={bench_json}", timeout=120
    )
    result.assert_outcomes(passed=7)

    def names(path: object) -> set[tuple[str, str, str]]:
        run = load_results_file(path)  # type: ignore[arg-type]
        return {(b.suite, b.name, json.dumps(b.params, sort_keys=True)) for b in run.benchmarks}

    assert names(out) == names(bench_json)
    assert len(names(out)) == 7


def test_a_run_that_measured_nothing_says_why(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_nothing="""
        def test_timed(benchmark):
            benchmark(sum, range(10))

        def test_never_calls(benchmark):
            pass

        def test_never_calls_perf(perf):
            pass
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(
        *BENCH_ARGS, "--benchmark-disable", f"--perfci-json={out}", timeout=120
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "perfci: 3 benchmark test(s) recorded nothing, not measured: pytest-benchmark is "
            "disabled (--benchmark-disable)",
        ]
    )
    run = load(out)
    assert run.benchmarks == ()
    assert {(o.name, o.status) for o in run.outcomes} == {
        ("test_timed", "skipped"),
        ("test_never_calls", "skipped"),
        ("test_never_calls_perf", "skipped"),
    }
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.stdout.fnmatch_lines(
        [
            "perfci: 1 benchmark test(s) recorded nothing, not measured: the test never called "
            "its benchmark fixture",
            "perfci: 1 benchmark test(s) recorded nothing, not measured: the test never called "
            "its perf fixture",
        ]
    )
    run = load(out)
    assert [b.name for b in run.benchmarks] == ["test_timed"]
    assert sorted((o.name, o.status) for o in run.outcomes) == [
        ("test_never_calls", "skipped"),
        ("test_never_calls_perf", "skipped"),
    ]


def test_a_failing_plain_benchmark_is_an_error_not_a_measurement(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_fails="""
        def test_wrong(benchmark):
            assert benchmark(sum, range(3)) == 4
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(failed=1)
    run = load(out)
    assert run.benchmarks == ()
    (failed,) = run.outcomes
    assert failed.status == "error" and failed.reason.startswith("call: assert 3 == 4")


CALLERS = """
import sys

from pathlib import Path

CALLERS = []


def work():
    CALLERS.append(sys._getframe(1).f_code.co_filename)
    return sum(range(100))


def test_timed(benchmark):
    {prelude}
    benchmark(work)
    wrapped = {{Path(c).name for c in CALLERS}} == {{"plain.py"}}
    assert wrapped == {wrapped}, set(CALLERS)
"""


@pytest.mark.parametrize(
    ("framework", "prelude", "wrapped"),
    [
        ("numpy", "import numpy", False),
        ("torch", "import torch; torch.ones(2) + 1", False),  # CPU: synchronous already
        ("mlx", "import mlx.core", True),  # lazy: every call's output is evaluated
    ],
)
def test_only_lazy_or_asynchronous_frameworks_are_wrapped(
    suite: pytest.Pytester, framework: str, prelude: str, wrapped: bool
) -> None:
    """A NumPy or torch-on-CPU benchmark is called by pytest-benchmark's own loop, not
    through perfci's sync wrapper: the timing is what pytest-benchmark alone measures."""
    if importlib.util.find_spec(framework) is None:
        pytest.skip(f"{framework} is not installed")
    suite.makepyfile(test_callers=CALLERS.format(prelude=prelude, wrapped=wrapped))
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    result.assert_outcomes(passed=1)
    assert measured(load(out), "test_timed").params == {}
