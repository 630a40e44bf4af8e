"""The plugin's `--perfci-explain`, through `pytester`: a benchmark test's call is profiled
instead of timed, for plain `benchmark` and for `perf`, one profile file per test, and a
bad call count is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plugin import BENCH_ARGS, INI

from perfci.explain.capture import profile_path
from perfci.explain.profile import read_profile

SUITE = """
import pytest


def work(n):
    return sum(i * i for i in range(n))


def test_plain(benchmark):
    assert benchmark(work, 300) == sum(i * i for i in range(300))


@pytest.mark.perf(kind="demo")
def test_perf(perf):
    perf(lambda: work(200), check=lambda out: out == sum(i * i for i in range(200)))
"""


def test_each_test_is_profiled_not_timed(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_work=SUITE)
    out = pytester.path / "profiles"
    result = pytester.runpytest_inprocess(
        *BENCH_ARGS, f"--perfci-explain={out}", "--perfci-explain-calls=5"
    )
    result.assert_outcomes(passed=2)
    for test, params in (("test_plain", {}), ("test_perf", {"kind": "demo"})):
        path = profile_path(out, f"test_work.py::{test}")
        profile = read_profile(path)
        assert (profile.suite, profile.name, profile.params) == ("test_work", test, params)
        assert profile.backend is None  # pure Python: cProfile only
        (section,) = profile.sections
        assert section.tool == "python" and [s.calls for s in section.segments] == [2, 3]
        calls = {op.name: op.calls for op in section.segments[1].ops}
        assert calls["test_work.py:work"] == 3  # named relative to the rootdir, no line
        assert (path.with_suffix("") / "python.prof").is_file()
    assert "perfci:" not in result.stdout.str()  # nothing "recorded nothing": not measured


def test_a_call_count_under_two_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_work=SUITE)
    result = pytester.runpytest_inprocess(
        *BENCH_ARGS, f"--perfci-explain={Path('p')}", "--perfci-explain-calls=1"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--perfci-explain-calls: must be from 2 to 100000*"])
