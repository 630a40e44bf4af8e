"""The confirmation's evaluation (suites/perfci/quality/confirm.py) at a tiny size: it runs
end to end and writes its table, and a simulated confirmation adds its runs to the series
and lets the detector find a step that waiting misses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perfci.confirm import ROUNDS

QUALITY = Path(__file__).parents[1] / "suites" / "perfci" / "quality"


def test_the_evaluation_runs_and_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "confirm.md"
    done = subprocess.run(
        [sys.executable, str(QUALITY / "confirm.py"), "--null", "2", "--power", "4",
         "--families", "gaussian", "AR(1) 0.8", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = out.read_text()
    assert "| gaussian |" in table and "| AR(1) 0.8 (untuned) |" in table
    assert f"Extra runs per confirmation: {2 * ROUNDS} " in table


def test_a_confirmation_adds_its_runs_and_finds_the_step_at_its_commit() -> None:
    sys.path.insert(0, str(QUALITY))
    try:
        import confirm  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(QUALITY))
    # +5% at CV 2%, 5 commits after: on this seed waiting finds nothing by the last
    # push; measuring again finds it at its commit, sooner
    waited = confirm.push("gaussian", 5, 0.05, 195, 190, 0, confirm.SUSPECT_MARGIN)
    measured = confirm.push("gaussian", 5, 0.05, 195, 190, ROUNDS, confirm.SUSPECT_MARGIN)
    assert waited.alert is None and waited.confirmations == 0 and waited.extra_runs == 0
    assert (measured.alert, measured.kind) == (195, "regression")
    assert (
        measured.confirmations >= 1 and measured.extra_runs == 2 * ROUNDS * measured.confirmations
    )
    assert measured.pushes < waited.pushes
