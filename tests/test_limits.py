"""perfci.limits: the results file's limits are the store's columns, and each check
refuses what the store or a later reader could not take."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Integer, String, Text

from perfci import limits
from perfci.limits import LimitError
from perfci.store import models

COLUMNS = [
    (limits.RUN_TEXT, models.Run, {"run_id": "run_key"}),
    (limits.COMMIT_TEXT, models.Commit, {}),
    (limits.MACHINE_TEXT, models.Machine, {}),
    (limits.ENVIRONMENT_TEXT, models.Environment, {}),
    (limits.BENCHMARK_TEXT, models.Benchmark, {}),
    (limits.METRIC_TEXT, models.Measurement, {"name": "metric"}),
]


@pytest.mark.parametrize(
    ("text", "model", "renamed"), COLUMNS, ids=[m.__tablename__ for _, m, _ in COLUMNS]
)
def test_text_limits_are_the_column_sizes(
    text: dict[str, int | None], model: type[models.Base], renamed: dict[str, str]
) -> None:
    table = models.table_of(model)
    for field, limit in text.items():
        column = table.c[renamed.get(field, field)]
        if limit is None:
            assert isinstance(column.type, Text), field
        else:
            assert isinstance(column.type, String) and column.type.length == limit, field


def test_integer_limits_are_the_column_types() -> None:
    table = models.table_of(models.Machine)
    for field, high in limits.MACHINE_INTEGERS.items():
        kind = table.c[field].type
        expected = limits.INT64_MAX if isinstance(kind, BigInteger) else limits.INT32_MAX
        assert isinstance(kind, Integer) and high == expected, field
    assert isinstance(models.table_of(models.Run).c.pr_number.type, Integer)


@pytest.mark.parametrize(
    ("value", "limit", "problem"),
    [
        ("a\0b", None, "contains a NUL character"),
        ("\ud800", None, "lone surrogate"),
        ("é\udfff", None, "lone surrogate"),
        ("x" * 65, 64, "longer than 64 characters"),
    ],
)
def test_text_that_no_database_takes_is_refused(
    value: str, limit: int | None, problem: str
) -> None:
    with pytest.raises(LimitError, match=problem):
        limits.check_text(value, "field", limit)


def test_text_is_counted_in_characters_as_postgresql_does() -> None:
    limits.check_text("é" * 64, "field", 64)  # 128 bytes of UTF-8, 64 characters
    limits.check_text("\U0001f680" * 64, "field", 64)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 once in UTC
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00",
    ],
)
def test_times_outside_the_years_are_refused(text: str) -> None:
    with pytest.raises(LimitError, match="is not a time between 1970 and 9999"):
        limits.check_time(text, "run.started_at")


def test_times_at_the_edges_are_accepted() -> None:
    limits.check_time("1970-01-01T00:00:00Z", "t")
    limits.check_time("9999-12-31T22:59:59-01:00", "t")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": float("nan")}, "must be a finite number"),
        ({"a": [1, float("inf")]}, "must be a finite number"),
        ({"a": 2**63}, "must be between"),
        ({"a": -(2**63) - 1}, "must be between"),
        ({"a": "\0"}, "NUL"),
        ({"\ud800": 1}, "lone surrogate"),
        ({"a": {1, 2}}, "is not a JSON value"),
    ],
)
def test_json_values_are_plain_and_finite(value: object, problem: str) -> None:
    with pytest.raises(LimitError, match=problem):
        limits.check_json(value, "params")


def test_json_nesting_is_bounded_without_recursion() -> None:
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(100_000):  # far past the interpreter's recursion limit
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    with pytest.raises(LimitError, match=f"nested more than {limits.MAX_DEPTH} deep"):
        limits.check_json(deep, "params")
    shallow: object = 1
    for _ in range(limits.MAX_DEPTH):
        shallow = [shallow]
    limits.check_json(shallow, "params")


def test_figures_zero_and_the_range_edges_pass_and_nothing_beyond() -> None:
    limits.check_figures([0.0, -0.0, limits.FIGURE_MIN, -limits.FIGURE_MAX], "s")
    for bad in (limits.FIGURE_MIN / 10, limits.FIGURE_MAX * 10, 5e-324):
        assert not limits.is_figure(bad)
        with pytest.raises(LimitError, match="zero or of a magnitude"):
            limits.check_figures([1.0, bad], "s")
    with pytest.raises(LimitError, match="finite numbers"):
        limits.check_figures([float("nan")], "s")
