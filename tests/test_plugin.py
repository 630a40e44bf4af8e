"""The pytest plugin end to end, through `pytester`: the results file, benchmark identities
(params), outcomes (skipped, error), profiles and the usage errors a suite author can make.
Metrics, the `perf` call and backends: test_plugin_measure.py.
"""

from __future__ import annotations

import json
import re
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


def measured(run: RunResult, name: str, **params: object) -> BenchmarkResult:
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
        assert measured(run, "TestNet.test_forward", n=n).params == {
            "model": "tiny",
            "batch": 4,  # the closest marker wins
            "layout": "nchw",
            "n": n,
            "backend": "numpy",
            "device": "cpu",
            "quant": "int8",
            "dtype": "float32",
        }
    assert measured(run, "TestNet.test_backward").params == {
        "model": "tiny",
        "batch": 2,
        "layout": "nchw",
    }
    assert measured(run, "test_module_level").params == {
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
            " has no stable name; use a str or a number",
            id="unstable-parametrize-value",
        ),
        pytest.param(
            """
            @pytest.mark.perf(model=object())
            def test_it(perf):
                perf(lambda: 1)
            """,
            "ERROR: test_usage.py::test_it: parameter value <object object at 0x*>"
            " has no stable name; use a str or a number",
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
        "perf_sizes(quick=[1], full=[2])",
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


@pytest.mark.parametrize(
    ("option", "message"),
    [
        # The option's own message ("must be 0 or more"), not argparse's "invalid
        # _non_negative_int value" (argparse drops a ValueError's text).
        pytest.param(
            "--perfci-warmup=-1", "*argument --perfci-warmup: *must be 0 or more*", id="warmup"
        ),
        pytest.param(
            "--perfci-profile=huge",
            "*argument --perfci-profile: invalid choice: 'huge'*",
            id="profile",
        ),
    ],
)
def test_bad_options_are_usage_errors(suite: pytest.Pytester, option: str, message: str) -> None:
    suite.makepyfile(test_one="def test_it(perf):\n    perf(lambda: 1)\n")
    result = suite.runpytest_inprocess(*BENCH_ARGS, option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_second_measurement_of_one_identity_keeps_the_results_file_valid(
    suite: pytest.Pytester,
) -> None:
    """Two tests that measure the same suite, name and params: the second fails with a
    clear message, and the results file is still one that perfci can read."""
    suite.makepyfile(
        test_dup="""
        import pytest

        @pytest.mark.parametrize("n", [1, 1])
        def test_dup(perf, n):
            perf(lambda: n)
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(*BENCH_ARGS, f"--perfci-json={out}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ['E *PerfUsageError: *measures test_dup {"n":1} a second time: give it distinct params']
    )
    run = load(out)  # each benchmark appears once: measured, skipped or failed
    assert run.run.status == "failed"


def _no_crash(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    last = output.strip().splitlines()[-1]
    assert "Traceback" not in output and "INTERNALERROR" not in output, f"crashed: {last}"


@pytest.mark.parametrize("value", ['float("inf")', 'float("nan")'])
def test_a_non_finite_param_value_does_not_lose_the_run(suite: pytest.Pytester, value: str) -> None:
    """Either recorded under a stable name or rejected with one clear line, like an
    object() value; never a crash at the end of the session that loses every result."""
    suite.makepyfile(
        test_norm=f"""
        import pytest

        @pytest.mark.parametrize("ord", [2, {value}])
        def test_norm(perf, ord):
            perf(lambda: ord)

        def test_ok(perf):
            perf(lambda: 1)
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    _no_crash(result)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.USAGE_ERROR)
    if result.ret == pytest.ExitCode.OK:
        assert sorted(b.name for b in load(out).benchmarks) == ["test_norm", "test_norm", "test_ok"]


def test_params_given_inside_the_test_do_not_lose_the_run(suite: pytest.Pytester) -> None:
    """perf.param() and dtype= take values the way markers do: a value that is not plain
    is named or refused in its own test, and the other results are still written."""
    suite.makepyfile(
        test_inline="""
        import numpy as np

        class Model:
            pass

        def test_param(perf):
            perf.param(model=Model)
            perf(lambda: 1)

        def test_dtype(perf):
            perf(lambda: 1, dtype=np.float32)

        def test_ok(perf):
            perf(lambda: 1)
        """
    )
    out = suite.path / "run.json"
    result = suite.runpytest_subprocess(*BENCH_ARGS, f"--perfci-json={out}", timeout=120)
    _no_crash(result)
    assert out.exists(), "no results file was written"
    assert "test_ok" in [b.name for b in load(out).benchmarks]


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


def _profile_settings(profile: str) -> tuple[int, float]:
    """The min rounds and max time a profile gives pytest-benchmark, read off PROFILE_ARGS."""
    from perfci.measure.profiles import PROFILE_ARGS

    given = dict(arg.removeprefix("--").split("=") for arg in PROFILE_ARGS[profile])
    return int(given["benchmark-min-rounds"]), float(given["benchmark-max-time"])


OPTIONS_TEST = """
def test_options(request):
    option = request.config.getoption
    print("SETTINGS", option("benchmark_min_rounds"), option("benchmark_max_time"))
"""


def _settings(suite: pytest.Pytester, *args: str) -> tuple[int, float]:
    suite.makepyfile(test_options=OPTIONS_TEST)
    result = suite.runpytest_inprocess("-p", "no:cacheprovider", "-s", *args)
    result.assert_outcomes(passed=1)
    (found,) = re.findall(r"SETTINGS (\S+) (\S+)", result.stdout.str())
    return int(found[0]), float(found[1])


def test_the_profiles_time_differently() -> None:
    assert _profile_settings("quick") != _profile_settings("full")


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_a_named_profile_sets_pytest_benchmarks_rounds(
    suite: pytest.Pytester, profile: str
) -> None:
    """`pytest --perfci-profile=full` times as `perfci run --profile full` does."""
    assert _settings(suite, f"--perfci-profile={profile}") == _profile_settings(profile)
    assert _settings(suite, "--perfci-profile", profile) == _profile_settings(profile)


def test_a_recorded_session_gets_the_default_profiles_rounds(suite: pytest.Pytester) -> None:
    out = suite.path / "run.json"
    assert _settings(suite, f"--perfci-json={out}") == _profile_settings("quick")


def test_benchmark_options_given_explicitly_win_over_the_profile(suite: pytest.Pytester) -> None:
    rounds, max_time = _profile_settings("full")
    explicit = _settings(suite, "--perfci-profile=full", f"--benchmark-min-rounds={rounds + 1}")
    assert explicit == (rounds + 1, max_time)
    suite.makeini(INI.replace("addopts =", f"addopts = --benchmark-max-time={max_time * 2}"))
    assert _settings(suite, "--perfci-profile=full") == (rounds, max_time * 2)


def test_a_session_perfci_does_not_record_keeps_pytest_benchmarks_defaults(
    suite: pytest.Pytester,
) -> None:
    assert _settings(suite) == _settings(suite, "-p", "no:perfci")


def test_the_full_profile_times_its_rounds(suite: pytest.Pytester) -> None:
    """End to end: with a negligible time budget, every benchmark gets exactly the
    profile's minimum rounds, one latency sample each."""
    suite.makepyfile(test_one="def test_it(perf):\n    perf(lambda: 1)\n")
    out = suite.path / "run.json"
    result = suite.runpytest_inprocess(
        "-p", "no:cacheprovider", f"--perfci-json={out}", "--perfci-profile=full",
        "--benchmark-max-time=0.000001",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    rounds, _ = _profile_settings("full")
    assert len(metric(measured(load(out), "test_it"), "latency").samples) == rounds
