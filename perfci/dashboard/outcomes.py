"""Why a benchmark measured nothing: the stored outcomes (skipped with its reason, or an
error), per benchmark variant for its page and per run for the runs pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from perfci.dashboard import naming
from perfci.dashboard.data import Catalog
from perfci.dashboard.trend import Trend
from perfci.store.catalog import RunSummary

NAMES_SHOWN = 50  # benchmarks named per reason on a run's row; the rest are counted


@dataclass(frozen=True)
class BenchmarkOutcome:
    """One reason a variant measured nothing on one machine: in how many runs, and the
    newest of them (along the branch; runs off it after those on it, newest last)."""

    machine: str
    status: str
    reason: str
    runs: int
    last: RunSummary
    on_branch: bool
    order: tuple[Any, ...]  # the newest run's place: on the branch, position, stored at


@dataclass(frozen=True)
class RunOutcome:
    """The benchmarks of one run that share a status and reason."""

    status: str
    reason: str
    benchmarks: list[tuple[str, str]]  # label, href from the site's root (NAMES_SHOWN at most)
    count: int


def _status_order(status: str) -> int:
    return 0 if status == "error" else 1


def by_benchmark(catalog: Catalog, trend: Trend) -> dict[int, list[BenchmarkOutcome]]:
    """Per benchmark id: each (machine, status, reason) it measured nothing for, errors first."""
    groups: dict[tuple[int, int, str, str], list[RunSummary]] = defaultdict(list)
    for o in catalog.outcome_rows:
        run = catalog.runs[o.run_id]
        groups[(o.benchmark_id, run.machine_id, o.status, o.reason)].append(run)

    def newest(run: RunSummary) -> tuple[int, int, Any, int]:
        at = trend.position.get(run.id)
        return (at is not None, -1 if at is None else at, run.started_at, run.id)

    out: dict[int, list[BenchmarkOutcome]] = defaultdict(list)
    for (bench, machine, status, reason), runs in groups.items():
        last = max(runs, key=newest)
        name = catalog.machines[machine]["name"]
        on_branch = last.id in trend.position
        out[bench].append(
            BenchmarkOutcome(name, status, reason, len(runs), last, on_branch, newest(last))
        )
    for rows in out.values():
        rows.sort(key=lambda r: (_status_order(r.status), r.machine, r.reason))
    return out


def by_run(catalog: Catalog) -> dict[int, list[RunOutcome]]:
    """Per run id: its benchmarks that measured nothing, grouped by status and reason."""
    groups: dict[int, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    for o in catalog.outcome_rows:
        groups[o.run_id][(o.status, o.reason)].append(o.benchmark_id)
    out: dict[int, list[RunOutcome]] = {}
    for run_id, reasons in groups.items():
        rows = []
        for (status, reason), ids in reasons.items():
            benches = sorted((catalog.benchmarks[i] for i in ids), key=lambda b: (b.name, b.key))
            named = [
                (
                    f"{b.name} [{naming.params_label(b.params)}]",
                    f"{naming.benchmark_page(b.suite, b.name)}#{naming.variant_anchor(b.key)}",
                )
                for b in benches[:NAMES_SHOWN]
            ]
            rows.append(RunOutcome(status, reason, named, len(benches)))
        rows.sort(key=lambda r: (_status_order(r.status), r.reason))
        out[run_id] = rows
    return out
