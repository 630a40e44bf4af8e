"""The bisection evaluation (suites/perfci/quality/bisect_real.py) at a tiny size: one
real `perfci bisect` process over a generated 4-commit repository whose kernel triples
its work at commit 2 names that commit, and the report counts it as found, not wrong."""

from __future__ import annotations

import sys
from pathlib import Path

QUALITY = Path(__file__).parents[1] / "suites" / "perfci" / "quality"


def test_one_trial_names_the_planted_commit_and_the_report_counts_it() -> None:
    sys.path.insert(0, str(QUALITY))
    try:
        import bisect_real  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(QUALITY))
    trial = bisect_real.one_trial(4, 2, 3.0, False)
    assert (trial.found, trial.exit) == (2, 0), trial.said
    assert trial.steps <= 2 and trial.said.count(" bad: ") >= 1
    table = bisect_real.report([trial], 4, 3.0, False)
    assert "| 1 | 1/1, 100.0% [20.7, 100.0] | 0 |" in table
