"""The short-history evaluation's table of steps in units of the noise
(suites/perfci/quality/short.py) at a tiny size: every cell is alerted / alerted or
suspected, the second never below the first, and a step of 18 times the noise behind two
commits is alerted at its commit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

QUALITY = Path(__file__).parents[1] / "suites" / "perfci" / "quality"
_CELL = re.compile(r"(\d+\.\d)% \[[^]]*\] / (\d+\.\d)% \[[^]]*\]")


def test_tail_table_cells_are_alerted_then_alerted_or_suspected() -> None:
    sys.path.insert(0, str(QUALITY))
    try:
        import short  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(QUALITY))
    lines = short.tail_table(map, 0, 4)
    rows = [line for line in lines if line.startswith("| ") and "runs after" not in line]
    assert len(rows) == 2 * len(short.TAIL_FAMILIES)
    for row in rows:
        cells = _CELL.findall(row)
        assert len(cells) == len(short.SIGMAS), row
        assert all(float(alerted) <= float(either) for alerted, either in cells), row
    gaussian_two_commits = next(r for r in rows if r.startswith("| gaussian | 6 |"))
    assert _CELL.findall(gaussian_two_commits)[-1][0] == "100.0"
