"""A `perf` test whose check fails is one failure with the check's message: not also
pytest-benchmark's teardown warning that its fixture "was not used at all", which under
`filterwarnings = error` is a second, teardown error. Real pytest processes."""

from __future__ import annotations

import pytest

ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--benchmark-min-rounds=2")

# As strict as the project's own configuration: a warning is an error.
STRICT = """
[pytest]
addopts = --strict-markers
filterwarnings = error
"""

TESTS = """
def test_wrong_output(perf):
    def check(out):
        raise AssertionError("max error is 0.5 of the output's RMS; float32 allows 0.001")
    perf(lambda: 1, check=check)

def test_first_call_raises(perf):
    def broken():
        raise ValueError("kernel refused its input")
    perf(broken)

def test_fails_before_perf(perf):
    assert 1 == 2, "inputs could not be built"

def test_right(perf):
    perf(lambda: 2, check=lambda out: None)
"""

UNUSED = "Benchmark fixture was not used at all"


def test_a_failed_check_is_one_failure_with_its_message(pytester: pytest.Pytester) -> None:
    pytester.makeini(STRICT)
    pytester.makepyfile(test_checks=TESTS)
    result = pytester.runpytest_subprocess(*ARGS, "-rA", timeout=120)
    result.assert_outcomes(passed=1, failed=3, errors=0)
    result.stdout.fnmatch_lines(
        [
            "FAILED test_checks.py::test_wrong_output - AssertionError: max error is 0.5 *",
            "FAILED test_checks.py::test_first_call_raises - ValueError: kernel refused *",
            "FAILED test_checks.py::test_fails_before_perf - AssertionError: inputs could *",
        ],
        consecutive=False,
    )
    assert UNUSED not in result.stdout.str()
    assert "ERROR" not in result.stdout.str()


def test_a_passing_test_that_never_timed_still_hears_of_it(pytester: pytest.Pytester) -> None:
    """Only a failed test loses the warning: one that passed without timing is told."""
    pytester.makepyfile(
        test_idle="""
        def test_never_timed(perf):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*ARGS, "-W", "default", timeout=120)
    result.assert_outcomes(passed=1, warnings=1)
    assert UNUSED in result.stdout.str()
