"""Console text: values in readable units, and tables whose columns line up."""

from __future__ import annotations

import pytest

from perfci.report.text import format_value, params_text, table


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.0, "s", "1 s"),
        (2.5, "s", "2.5 s"),
        (123.456, "s", "123 s"),
        (0.0123456, "s", "12.3 ms"),
        (0.001, "s", "1 ms"),
        (0.0015, "s", "1.5 ms"),
        (-0.002, "s", "-2 ms"),
        (1e-6, "s", "1 µs"),
        (4.56e-5, "s", "45.6 µs"),
        (2.5e-9, "s", "2.5 ns"),
        (7.89e-8, "s", "78.9 ns"),
        (5e-12, "s", "0.005 ns"),
        (0.0, "s", "0 s"),
        (0, "bytes", "0 B"),
        (512, "bytes", "512 B"),
        (1024, "bytes", "1 KiB"),
        (1536, "bytes", "1.5 KiB"),
        (2**20, "bytes", "1 MiB"),
        (3.5 * 2**20, "bytes", "3.5 MiB"),
        (2**30, "bytes", "1 GiB"),
        (64 * 2**30, "bytes", "64 GiB"),
        (12.5, "items/s", "12.5 items/s"),
        (0.123456, "ratio", "0.123 ratio"),
    ],
)
def test_format_value(value: float, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0.9999, "s"),  # rounds to 1000 ms: should read 1 s
        (0.00099995, "s"),  # rounds to 1000 µs: should read 1 ms
        (1000, "bytes"),
        (1023, "bytes"),
        (1010 * 2**20, "bytes"),
    ],
    ids=["0.9999s", "999.95us", "1000B", "1023B", "1010MiB"],
)
def test_format_value_never_falls_into_scientific_notation(value: float, unit: str) -> None:
    text = format_value(value, unit)
    assert "e+" not in text and "e-" not in text, text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ""),
        ({"n": 512, "backend": "mlx"}, "backend=mlx, n=512"),
        ({"dtype": "float16"}, "dtype=float16"),
    ],
)
def test_params_text(params: dict[str, object], expected: str) -> None:
    assert params_text(params) == expected


def test_table_exact_layout() -> None:
    text = table(["a", "long header"], [["xxxxx", "1"], ["y", "22"]])
    assert text.splitlines() == [
        "a      long header",
        "-----  -----------",
        "xxxxx  1",
        "y      22",
    ]


def column_starts(dash_line: str) -> list[int]:
    starts, previous = [], " "
    for i, ch in enumerate(dash_line):
        if ch == "-" and previous == " ":
            starts.append(i)
        previous = ch
    return starts


def test_table_columns_line_up() -> None:
    headers = ["benchmark", "params", "median", "±IQR/2"]
    rows = [
        ["suites/mlx/test_gemm::test_gemm", "backend=mlx, n=512", "1.02 ms", "±12.3 µs"],
        ["x::y", "", "980 µs", ""],
        ["suites/torch/test_conv::test_conv2d", "device=mps", "12.3 ms", "±1 ms"],
    ]
    lines = table(headers, rows).splitlines()
    assert len(lines) == 2 + len(rows)
    starts = column_starts(lines[1])
    assert len(starts) == len(headers)
    for line, cells in zip([lines[0], *lines[2:]], [headers, *rows], strict=True):
        assert line == line.rstrip(), "no trailing spaces"
        for i, cell in enumerate(cells):
            end = starts[i + 1] if i + 1 < len(starts) else None
            assert line[starts[i] : end].rstrip() == cell
    widths = [len(dashes) for dashes in lines[1].split("  ")]
    for i, header in enumerate(headers):
        assert widths[i] == max(len(header), *(len(r[i]) for r in rows))


def test_table_without_rows_has_header_and_rule() -> None:
    assert table(["run", "commit"], []).splitlines() == ["run  commit", "---  ------"]


@pytest.mark.parametrize("row", [["only one"], ["one", "two", "three"]])
def test_table_rejects_a_ragged_row(row: list[str]) -> None:
    with pytest.raises((IndexError, ValueError)):
        table(["a", "b"], [["x", "y"], row])
