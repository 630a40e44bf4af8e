"""What the pages show besides the measurements: the store's small tables, read whole (the
dashboard never writes), and the branch whose history the charts follow."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from perfci.store import Store
from perfci.store.catalog import AlertInfo, BenchmarkInfo, OutcomeInfo, RunSummary, read_tables

TREND_BRANCH = "main"  # the branch the charts follow, when the store has it


@dataclass
class Catalog:
    """Everything but the measurements: small tables, read whole."""

    runs: dict[int, RunSummary]
    machines: dict[int, dict[str, Any]]
    environments: dict[int, dict[str, Any]]
    benchmarks: dict[int, BenchmarkInfo]
    alerts: list[AlertInfo]
    outcome_rows: list[OutcomeInfo] = field(default_factory=list)
    outcomes: dict[int, tuple[int, int]] = field(default_factory=dict)  # run → skipped, errors

    def trend_branch(self) -> str | None:
        """The branch whose history the charts show: main when runs outside pull requests
        measured it, else the branch with most such commits (None: commits stored without
        a branch)."""
        counts = Counter(
            r.branch
            for r in {
                r.commit_id: r for r in self.runs.values() if r.trigger != "pull_request"
            }.values()
        )
        if TREND_BRANCH in counts or not counts:
            return TREND_BRANCH
        return min(counts, key=lambda b: (-counts[b], b is None, b or ""))


def load_catalog(store: Store) -> Catalog:
    tables = read_tables(store)
    outcome_rows = tables.outcomes
    skipped = Counter(o.run_id for o in outcome_rows if o.status == "skipped")
    failed = Counter(o.run_id for o in outcome_rows if o.status != "skipped")
    return Catalog(
        tables.runs,
        tables.machines,
        tables.environments,
        tables.benchmarks,
        tables.alerts,
        outcome_rows,
        {run: (skipped[run], failed[run]) for run in skipped | failed},
    )
