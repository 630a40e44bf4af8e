"""The asv peer evaluation (suites/perfci/quality/ab_asv.py) reads which benchmarks asv
called changed from a real `asv continuous` output, and holds it to asv's exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

QUALITY = Path(__file__).parents[1] / "suites" / "perfci" / "quality"
OUTPUT = (Path(__file__).parent / "data" / "asv-continuous" / "changed.txt").read_text()

sys.path.insert(0, str(QUALITY))
try:
    import ab_asv  # type: ignore[import-not-found]
finally:
    sys.path.remove(str(QUALITY))


def test_the_changed_rows_are_read_by_index_and_mark() -> None:
    assert ab_asv.changed_benchmarks(OUTPUT) == {0: "+", 1: "+", 2: "-"}


def test_the_per_commit_tables_before_the_comparison_are_not_read_as_changes() -> None:
    before = OUTPUT[: OUTPUT.index("| Change ")]
    assert "bench_work.time_kernel" in before
    assert ab_asv.changed_benchmarks(before) == {}


def test_a_slower_benchmark_must_come_with_exit_status_1() -> None:
    marks = ab_asv.changed_benchmarks(OUTPUT)
    ab_asv.check_status(subprocess.CompletedProcess([], 1, OUTPUT, ""), marks)
    with pytest.raises(SystemExit, match="exit 0"):
        ab_asv.check_status(subprocess.CompletedProcess([], 0, OUTPUT, ""), marks)


def test_an_error_without_asv_summary_is_not_taken_for_a_result() -> None:
    with pytest.raises(SystemExit, match="exit 1"):
        ab_asv.check_status(subprocess.CompletedProcess([], 1, "· Creating environments\n", ""), {})
