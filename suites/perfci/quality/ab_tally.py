"""What the real-process A/B evaluations (`ab_drift.py`, `ab_asv.py`) count of each
comparison, and the Markdown row they print of it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ab_real import PLANTED
from evaluate_common import wilson

# head does +5% more work in PLANTED benchmarks and +10% in PLANTED others, as in ab_real
PLANTED_FACTORS = {i: 1.05 for i in range(PLANTED)} | {i: 1.10 for i in range(PLANTED, 2 * PLANTED)}


@dataclass
class Tally:
    """One row: comparisons of one kind by one tool."""

    label: str
    planted: bool  # A/B (the PLANTED_FACTORS change) rather than A/A
    comparisons: int = 0
    judged: int = 0  # unchanged benchmark-metrics judged
    false: int = 0  # of them flagged
    flagged_comparisons: int = 0  # comparisons with any false flag
    found5: int = 0
    found10: int = 0
    planted5: int = 0  # planted benchmarks judged, the found ones' denominators
    planted10: int = 0
    rounds: float = 0.0
    seconds: float = 0.0

    def add(
        self, judged: Collection[int], changed: Collection[int], regressed: Collection[int],
        rounds: float, seconds: float,
    ) -> None:  # fmt: skip
        """One comparison: the benchmarks it judged, those it called changed (either way)
        and those it called slower, by index."""
        factors = PLANTED_FACTORS if self.planted else {}
        null = [i for i in judged if i not in factors]
        self.comparisons += 1
        self.judged += len(null)
        self.false += sum(i in changed for i in null)
        self.flagged_comparisons += any(i in changed for i in null)
        for i in judged:
            if factors.get(i) == 1.05:
                self.planted5 += 1
                self.found5 += i in regressed
            elif factors.get(i) == 1.10:
                self.planted10 += 1
                self.found10 += i in regressed
        self.rounds += rounds
        self.seconds += seconds

    def cells(self) -> dict[str, str]:
        """The row's cells by column name (HEADER's)."""
        n = max(self.comparisons, 1)
        found = ["—", "—"]
        if self.planted:
            found = [f"{self.found5}/{self.planted5}", f"{self.found10}/{self.planted10}"]
        values = [
            self.label,
            str(self.comparisons),
            str(self.judged),
            wilson(self.false, max(self.judged, 1)),
            f"{self.flagged_comparisons}/{self.comparisons}",
            *found,
            f"{self.rounds / n:.1f}",
            f"{self.seconds / n:.0f} s",
        ]
        return dict(zip(HEADER, values, strict=True))


HEADER = [
    "comparison", "comparisons", "unchanged benchmark-metrics judged", "falsely flagged",
    "comparisons with a false flag", "+5% found", "+10% found", "rounds, mean",
    "wall time a comparison",
]  # fmt: skip


def markdown(header: list[str], rows: list[dict[str, str]]) -> str:
    """A Markdown table of `rows`' cells under `header`'s names."""
    lines = [header, ["---"] * len(header), *([row[name] for name in header] for row in rows)]
    return "\n".join(f"| {' | '.join(cells)} |" for cells in lines)
