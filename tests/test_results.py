"""The results file: what to_json writes, parse_run reads back; every bad input is one line."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from factories import benchmark, run, sha
from hostile import DELETE, mutate

from perfci.limits import FIGURE_MAX, FIGURE_MIN
from perfci.results import FORMAT, FORMAT_VERSION, Outcome, ResultsError, parse_run


def doc() -> dict[str, Any]:
    result = run(
        commit=sha("head"),
        parents=(sha("base"),),
        benchmarks=(benchmark("test_gemm"), benchmark("test_conv", {"backend": "torch"})),
        outcomes=(Outcome("suites/coreml", "test_predict", {}, "skipped", "needs macOS"),),
    )
    return dict(json.loads(result.to_json()))


def mutated(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    return mutate(doc(), path, value)


def parse_error(d: dict[str, Any]) -> str:
    with pytest.raises(ResultsError) as info:
        parse_run(d)
    message = str(info.value)
    assert message
    assert "\n" not in message
    return message


SAMPLES = ("benchmarks", 0, "metrics", 0, "samples")


def test_round_trip_gives_back_the_same_result() -> None:
    original = run(
        commit=sha("head"),
        parents=(sha("base"),),
        outcomes=(Outcome("suites/mlx", "test_big", {"n": 8192}, "error", "out of memory"),),
    )
    parsed = parse_run(json.loads(original.to_json()))
    assert parsed == original
    assert parsed.to_json() == original.to_json()


def test_document_is_self_describing() -> None:
    assert (
        (doc()["format"], doc()["format_version"]) == (FORMAT, FORMAT_VERSION) == ("perfci-run", 1)
    )


def test_commit_null_is_allowed() -> None:
    assert parse_run(mutated(("commit",), None)).commit is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("run", "started_at"), "2026-11-01T10:00:00Z"),
        (("run", "finished_at"), "2026-11-01T10:00:00.123456+02:00"),
        (("run", "pr_number"), 42),
        (("run", "low_power_mode"), False),
        (("run", "load_average"), 3),
        (("run", "load_average"), 2.5),
        (("commit", "sha"), "abcd"),
        (("commit", "author_time"), "2026-10-31T23:59:59+00:00"),
        (("outcomes",), DELETE),
    ],
)
def test_valid_variations_are_accepted(path: tuple[str | int, ...], value: object) -> None:
    parse_run(mutated(path, value))


def test_integer_samples_become_floats() -> None:
    parsed = parse_run(mutated(SAMPLES, [1, 2, 3]))
    samples = parsed.benchmarks[0].metrics[0].samples
    assert samples == (1.0, 2.0, 3.0)
    assert all(type(s) is float for s in samples)


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("format",), "pytest-benchmark", "not a perfci results file"),
        (("format",), DELETE, "not a perfci results file"),
        (("format_version",), 2, "format_version 2 is not supported"),
        (("format_version",), "1", "format_version '1' is not supported"),
        (("format_version",), DELETE, "format_version None is not supported"),
        (("run",), DELETE, "run must be an object"),
        (("run",), [], "run must be an object"),
        (("run", "run_id"), DELETE, "run.run_id is missing"),
        (("run", "started_at"), DELETE, "run.started_at is missing"),
        (("run", "finished_at"), DELETE, "run.finished_at is missing"),
        (("run", "colour"), "blue", "run has unknown field 'colour'"),
        (("run", "pr_number"), "12", "run.pr_number has the wrong type"),
        (("run", "pr_number"), True, "run.pr_number has the wrong type"),
        (("run", "pr_number"), 12.0, "run.pr_number has the wrong type"),
        (("run", "low_power_mode"), 0, "run.low_power_mode has the wrong type"),
        (("run", "load_average"), "1.5", "run.load_average has the wrong type"),
        (("run", "load_average"), True, "run.load_average has the wrong type"),
        (("run", "profile"), 3, "run.profile has the wrong type"),
        (("run", "host"), ["mini"], "run.host has the wrong type"),
        (("commit",), "abcdef12", "commit must be an object"),
        (("commit", "sha"), DELETE, "commit.sha is missing"),
        (("commit", "sha"), None, "commit.sha must not be null"),
        (("commit", "sha"), "ABCDEF12", "is not a hexadecimal git sha"),
        (("commit", "sha"), "abc", "is not a hexadecimal git sha"),
        (("commit", "sha"), "g" * 40, "is not a hexadecimal git sha"),
        (("commit", "sha"), "a" * 65, "is not a hexadecimal git sha"),
        (("commit", "parents"), ["not-a-sha"], "is not a hexadecimal git sha"),
        (("commit", "parents"), "abcdef12", "commit.parents has the wrong type"),
        (("commit", "parents"), [1234], "commit.parents must be a list of strings"),
        (("commit", "tag"), "v1", "commit has unknown field 'tag'"),
        (("machine",), DELETE, "machine must be an object"),
        (("machine", "fingerprint"), DELETE, "machine.fingerprint must be a string"),
        (("environment", "fingerprint"), 7, "environment.fingerprint must be a string"),
        (("benchmarks",), DELETE, "benchmarks must be a list"),
        (("benchmarks", 0), "test_gemm", r"benchmarks\[0\] is not an object"),
        (("benchmarks", 1, "name"), "", r"benchmarks\[1\].name must be a non-empty string"),
        (("benchmarks", 0, "params"), None, r"benchmarks\[0\].params must be an object"),
        (("outcomes",), {}, "outcomes must be a list"),
        (("outcomes", 0, "status"), "passed", r"outcomes\[0\].status must be"),
        (("outcomes", 0, "reason"), DELETE, r"outcomes\[0\].reason must be a non-empty"),
    ],
)
def test_invalid_documents_give_one_line(
    path: tuple[str | int, ...], value: object, match: str
) -> None:
    assert re.search(match, parse_error(mutated(path, value)))


BAD_SAMPLES: dict[str, object] = {
    "empty": [],
    "null": None,
    "string": "1.0",
    "nan": [float("nan")],
    "nan-inside": [1.0, float("nan"), 2.0],
    "inf": [1.0, float("inf")],
    "minus-inf": [float("-inf"), 1.0],
    "string-inside": ["1.0", 2.0],
    "true": [True, 1.0],
    "false": [1.0, False],
    "null-inside": [1.0, None],
    "nested-list": [[1.0]],
    "object": [{"value": 1.0}],
    "int-too-large-for-float": [1.0, 10**400],
}


@pytest.mark.parametrize("samples", list(BAD_SAMPLES.values()), ids=list(BAD_SAMPLES))
def test_bad_samples_are_refused(samples: object) -> None:
    message = parse_error(mutated(SAMPLES, samples))
    assert "benchmarks[0].metrics[0].samples must be a non-empty list of finite numbers" in message


def test_nan_and_infinity_spelled_in_the_json_text_are_refused() -> None:
    text = json.dumps(doc())
    for literal in ("NaN", "Infinity", "-Infinity"):
        d = json.loads(text)
        d["benchmarks"][0]["metrics"][0]["samples"][3] = "@"
        bad = json.loads(json.dumps(d).replace('"@"', literal))
        parse_error(bad)


def test_samples_at_the_edges_of_the_figure_range_are_accepted() -> None:
    """Every sample is within range; only their sum would overflow a narrower type."""
    edges = [FIGURE_MAX, FIGURE_MAX, -FIGURE_MAX, FIGURE_MIN, -FIGURE_MIN, 0.0, -0.0]
    parsed = parse_run(mutated(SAMPLES, edges))
    assert parsed.benchmarks[0].metrics[0].samples == tuple(edges)


@pytest.mark.parametrize(
    "value",
    [5e-324, -5e-324, 2.2e-308, FIGURE_MIN / 2, FIGURE_MAX * 2, -FIGURE_MAX * 2, 1e308],
)
def test_subnormal_and_huge_samples_are_refused(value: float) -> None:
    message = parse_error(mutated(SAMPLES, [1.0, value, 2.0]))
    assert message.startswith("benchmarks[0].metrics[0].samples must be zero or of a magnitude")


@pytest.mark.parametrize("direction", ["down", "Lower", None, 1, DELETE])
def test_bad_direction_is_refused(direction: object) -> None:
    message = parse_error(mutated(("benchmarks", 0, "metrics", 0, "direction"), direction))
    assert message == "benchmarks[0].metrics[0].direction must be 'lower' or 'higher'"


def test_duplicated_benchmark_is_refused() -> None:
    d = doc()
    d["benchmarks"].append(copy.deepcopy(d["benchmarks"][0]))
    assert "suites/mlx/test_gemm::test_gemm" in parse_error(d)
    assert "appears twice" in parse_error(d)


def test_duplicated_benchmark_with_params_in_another_order_is_refused() -> None:
    d = doc()
    twin = copy.deepcopy(d["benchmarks"][0])
    twin["params"] = dict(reversed(list(twin["params"].items())))
    assert list(twin["params"]) != list(d["benchmarks"][0]["params"])
    d["benchmarks"].append(twin)
    assert "appears twice" in parse_error(d)


def test_same_name_with_other_params_is_not_a_duplicate() -> None:
    d = doc()
    twin = copy.deepcopy(d["benchmarks"][0])
    twin["params"] = {**twin["params"], "n": 1024}
    d["benchmarks"].append(twin)
    assert len(parse_run(d).benchmarks) == 3


def test_outcome_with_a_measured_benchmark_identity_is_refused() -> None:
    d = doc()
    first = d["benchmarks"][0]
    d["outcomes"].append(
        {**{k: first[k] for k in ("suite", "name", "params")}, "status": "error", "reason": "x"}
    )
    assert "appears twice" in parse_error(d)


def test_duplicated_metric_is_refused() -> None:
    d = doc()
    metrics = d["benchmarks"][0]["metrics"]
    metrics.append(copy.deepcopy(metrics[0]))
    assert parse_error(d) == "benchmark suites/mlx/test_gemm::test_gemm repeats a metric"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("run", "started_at"), "yesterday"),
        (("run", "started_at"), ""),
        (("run", "finished_at"), "2026-13-01T00:00:00"),
        (("run", "finished_at"), "2026-11-01 25:00"),
        (("commit", "author_time"), "1 Nov 2026"),
    ],
)
def test_bad_iso_times_are_refused(path: tuple[str | int, ...], text: str) -> None:
    assert parse_error(mutated(path, text)) == f"{text!r} is not an ISO 8601 time"


@pytest.mark.parametrize("name", ["run_id", "started_at", "finished_at"])
def test_required_run_field_null_is_refused(name: str) -> None:
    """A required field set to null is as missing as an absent one."""
    parse_error(mutated(("run", name), None))


def test_unknown_run_status_is_refused() -> None:
    """The store only takes 'passed' or 'failed'; anything else must stop at parsing."""
    parse_error(mutated(("run", "status"), "exploded"))
