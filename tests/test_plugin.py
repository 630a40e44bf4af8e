"""The pytest plugin end to end, through `pytester`: the results file, identities, outcomes
and the usage errors a suite author can make. Backends and measuring: test_plugin_measure.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from perfci.results import BenchmarkResult, Metric, Outcome, RunResult, parse_run

# Small pytest-benchmark settings: a few rounds, a hundredth of a second per benchmark.
BENCH_ARGS = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "--benchmark-min-rounds=3",
    "--benchmark-max-time=0.01",
)

# The inner sessions are as strict as the project's own configuration (unregistered markers
# and warnings are errors), except for pytest-benchmark's note that a test which failed or
# skipped before timing anything "did not use" its fixture.
INI = """
[pytest]
addopts = --strict-markers
filterwarnings =
    error
    ignore::pytest_benchmark.logger.PytestBenchmarkWarning
    ignore:Torch version .* has not been tested with coremltools:UserWarning
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory configured like the project's suites."""
    pytester.makeini(INI)
    return pytester


def load(path: Path) -> RunResult:
    """The results file at `path`, through the same parser `perfci ingest` uses."""
    return parse_run(json.loads(path.read_text()))


def benchmark(run: RunResult, name: str, **params: object) -> BenchmarkResult:
    found = [
        b
        for b in run.benchmarks
        if b.name == name and all(b.params.get(k) == v for k, v in params.items())
    ]
    assert len(found) == 1, f"{name} {params}: {[(b.name, b.params) for b in run.benchmarks]}"
    return found[0]


def outcome(run: RunResult, name: str) -> Outcome:
    found = [o for o in run.outcomes if o.name == name]
    assert len(found) == 1, f"{name}: {run.outcomes}"
    return found[0]


def metric(bench: BenchmarkResult, name: str) -> Metric:
    found = [m for m in bench.metrics if m.name == name]
    assert len(found) == 1, f"{bench.name}: {[m.name for m in bench.metrics]}"
    return found[0]


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
        bench = benchmark(run, "test_work", n=n)
        throughput = metric(bench, "throughput")
        assert (throughput.unit, throughput.direction) == ("images/s", "higher")
        latency = metric(bench, "latency").samples
        assert throughput.samples == pytest.approx([4 / s for s in latency], rel=1e-12)
        assert len(bench.metrics) == 4  # latency, cold start, throughput, process memory

    plain = benchmark(run, "test_plain")
    assert "throughput" not in {m.name for m in plain.metrics}
    assert len(plain.metrics) == 3


def test_params_merge_markers_parametrize_backend_and_dtype(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_params="""
        import pytest

        pytestmark = pytest.mark.perf(model="tiny", batch=1, layout="nchw")

        @pytest.mark.perf(batch=2)
        class TestNet:
            @pytest.mark.perf(batch=4)
            @pytest.mark.parametrize("n", [10, 20])
            def test_forward(self, perf, n):
                perf.use("numpy", device="cpu")
                perf.param(quant="int8")
                perf(lambda: sum(range(n)), dtype="float32")

            def test_backward(self, perf):
                perf(lambda: 1)

        def test_module_level(perf):
            perf.use("numpy")
            perf(lambda: 1)
        """
    )
    out = suite.path / "run.json"
    suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}").assert_outcomes(passed=4)
    run = load(out)

    for n in (10, 20):
        assert benchmark(run, "TestNet.test_forward", n=n).params == {
            "model": "tiny",
            "batch": 4,  # the closest marker wins
            "layout": "nchw",
            "n": n,
            "backend": "numpy",
            "device": "cpu",
            "quant": "int8",
            "dtype": "float32",
        }
    assert benchmark(run, "TestNet.test_backward").params == {
        "model": "tiny",
        "batch": 2,
        "layout": "nchw",
    }
    assert benchmark(run, "test_module_level").params == {
        "model": "tiny",
        "batch": 1,
        "layout": "nchw",
        "backend": "numpy",
        "device": "cpu",
    }


def test_failing_benchmarks_are_errors_not_measurements(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_failing="""
        import pytest

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown broke")

        @pytest.mark.perf(size="s")
        def test_ok(perf):
            perf(lambda: 1)

        @pytest.mark.perf(size="s")
        def test_workload_raises(perf):
            def boom():
                raise ValueError("kaput")
            perf(boom)

        def test_assert_after_measuring(perf):
            perf.use("numpy")
            perf(lambda: 1)
            assert 1 == 2, "late"

        def test_teardown_fails(perf, broken_teardown):
            perf(lambda: 1)
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(passed=2, failed=2, errors=1)  # test_teardown_fails passes its call
    run = load(out)

    assert run.run.status == "failed"
    assert [b.name for b in run.benchmarks] == ["test_ok"]
    assert len(run.outcomes) == 3
    raises = outcome(run, "test_workload_raises")
    assert (raises.status, raises.reason) == ("error", "call: ValueError: kaput")
    assert raises.params == {"size": "s"}
    late = outcome(run, "test_assert_after_measuring")
    assert (late.status, late.reason) == ("error", "call: AssertionError: late")
    assert late.params == {"backend": "numpy", "device": "cpu"}
    teardown = outcome(run, "test_teardown_fails")
    assert (teardown.status, teardown.reason) == ("error", "teardown: RuntimeError: teardown broke")


def test_skips_are_listed_with_their_reason_and_the_run_passes(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_skips="""
        import pytest

        def test_ok(perf):
            perf(lambda: 1)

        def test_skips_inside(perf):
            perf.param(accelerator="npu")
            pytest.skip("no NPU here")

        @pytest.mark.perf(kind="late")
        @pytest.mark.skipif(True, reason="not on this machine")
        def test_skipif(perf):
            perf(lambda: 1)
        """
    )
    out = suite.path / "run.json"
    suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}").assert_outcomes(
        passed=1, skipped=2
    )
    run = load(out)
    assert run.run.status == "passed"
    assert [b.name for b in run.benchmarks] == ["test_ok"]
    inside = outcome(run, "test_skips_inside")
    assert (inside.status, inside.reason, inside.params) == (
        "skipped",
        "no NPU here",
        {"accelerator": "npu"},
    )
    marked = outcome(run, "test_skipif")
    assert (marked.status, marked.reason, marked.params) == (
        "skipped",
        "not on this machine",
        {"kind": "late"},
    )


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


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            """
            @pytest.mark.perf("positional")
            def test_it(perf):
                perf(lambda: 1)
            """,
            "ERROR: test_usage.py::test_it: @pytest.mark.perf takes keyword params only",
            id="positional-marker-arg",
        ),
        pytest.param(
            """
            @pytest.mark.parametrize("thing", [object()])
            def test_it(perf, thing):
                perf(lambda: 1)
            """,
            "ERROR: test_usage.py::test_it[[]thing0[]]: parameter value <object object at 0x*>"
            " has no stable name; use str or int",
            id="unstable-parametrize-value",
        ),
        pytest.param(
            """
            @pytest.mark.perf(model=object())
            def test_it(perf):
                perf(lambda: 1)
            """,
            "ERROR: test_usage.py::test_it: parameter value <object object at 0x*>"
            " has no stable name; use str or int",
            id="unstable-marker-value",
        ),
    ],
)
def test_bad_perf_params_are_usage_errors(
    suite: pytest.Pytester, source: str, message: str
) -> None:
    suite.makepyfile(test_usage="import pytest\n" + textwrap.dedent(source))
    result = suite.runpytest_inprocess(*BENCH_ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    result.assert_outcomes()  # nothing ran


@pytest.mark.parametrize(("profile", "sizes"), [("quick", [1, 2]), ("full", [3])])
def test_perf_sizes_parametrizes_by_profile(
    suite: pytest.Pytester, profile: str, sizes: list[int]
) -> None:
    suite.makepyfile(
        test_sizes=f"""
        import pytest

        @pytest.mark.perf_sizes("n", quick=[1, 2], full=[3])
        def test_sized(perf, n):
            assert perf.profile == {profile!r}
            perf(lambda: n)
        """
    )
    out = suite.path / "run.json"
    args = [*BENCH_ARGS, f"--perfci-json={out}"]
    if profile != "quick":  # quick is the default
        args.append(f"--perfci-profile={profile}")
    result = suite.runpytest_inprocess(*args)
    result.assert_outcomes(passed=len(sizes))
    run = load(out)
    assert run.run.profile == profile
    assert sorted(b.params["n"] for b in run.benchmarks) == sizes


@pytest.mark.parametrize(
    "marker",
    [
        'perf_sizes("n", quick=[1, 2])',
        'perf_sizes("n", "m", quick=[1], full=[2])',
        'perf_sizes(quick=[1], full=[2])',
        'perf_sizes("n", quick=[1], full=[2], huge=[3])',
    ],
)
def test_malformed_perf_sizes_is_a_usage_error(suite: pytest.Pytester, marker: str) -> None:
    suite.makepyfile(
        test_sizes=f"""
        import pytest

        @pytest.mark.{marker}
        def test_sized(perf, n):
            perf(lambda: n)
        """
    )
    result = suite.runpytest_inprocess(*BENCH_ARGS)
    # Raised while collecting, pytest reports the UsageError as a collection error.
    assert result.ret in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED)
    output = result.stdout.str() + result.stderr.str()
    assert 'test_sizes.py::test_sized: use @pytest.mark.perf_sizes("argname", ' in output
    assert "passed" not in result.parseoutcomes()


@pytest.mark.parametrize("option", ["--perfci-warmup=-1", "--perfci-profile=huge"])
def test_bad_options_are_usage_errors(suite: pytest.Pytester, option: str) -> None:
    suite.makepyfile(test_one="def test_it(perf):\n    perf(lambda: 1)\n")
    result = suite.runpytest_inprocess(*BENCH_ARGS, option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def _files(root: Path) -> set[Path]:
    """Everything under `root` but bytecode and pytest-benchmark's own storage folder."""
    return {p for p in root.rglob("*") if not {"__pycache__", ".benchmarks"} & set(p.parts)}


def test_without_perfci_json_nothing_is_written(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_quiet="""
        import pytest

        def test_it(perf):
            perf(lambda: 1, items=1, unit="calls")

        def test_skipped(perf):
            pytest.skip("not here")
        """
    )
    before = _files(suite.path)
    result = suite.runpytest_inprocess(*BENCH_ARGS)
    result.assert_outcomes(passed=1, skipped=1)
    assert _files(suite.path) == before


def test_results_file_is_replaced_atomically(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_atomic="def test_it(perf):\n    perf(lambda: 1)\n")
    target = suite.path / "results" / "nested" / "run.json"

    suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={target}").assert_outcomes(passed=1)
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.json"]
    first = load(target).run.run_id

    target.write_text("stale")
    suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={target}").assert_outcomes(passed=1)
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.json"]  # no run.json.tmp
    second = load(target)
    assert second.run.run_id != first
    assert [b.name for b in second.benchmarks] == ["test_it"]
