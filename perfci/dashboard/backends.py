"""The backends page: per machine and environment, its latest run's workloads side by side
across backends (the rule of what one workload is: perfci.backends.sidebyside)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from perfci.backends.sidebyside import Timing, WorkloadTable, side_by_side
from perfci.dashboard.data import Catalog
from perfci.results import NOT_HISTORY
from perfci.store import Store
from perfci.store.catalog import RunSummary, measurement_summaries


@dataclass(frozen=True)
class MachineSection:
    """One machine and environment: its latest run and that run's tables."""

    machine: dict[str, Any]
    environment: dict[str, Any]
    run: RunSummary
    tables: list[WorkloadTable]


def latest_runs(catalog: Catalog) -> dict[tuple[int, int], RunSummary]:
    """The newest stored run of each (machine, environment), pull requests' and A/B
    rounds' aside: they measure other code than the branch's history."""
    latest: dict[tuple[int, int], RunSummary] = {}
    for run in catalog.runs.values():
        if run.trigger in NOT_HISTORY:
            continue
        key = (run.machine_id, run.environment_id)
        held = latest.get(key)
        if held is None or (run.started_at, run.id) > (held.started_at, held.id):
            latest[key] = run
    return latest


def backend_sections(store: Store, catalog: Catalog) -> list[MachineSection]:
    """Each machine and environment whose latest run measured a workload on more than one
    backend, by machine name."""
    latest = latest_runs(catalog)
    timings: dict[int, list[Timing]] = defaultdict(list)
    if latest:
        ids = [run.id for run in latest.values()]
        for bench_id, metric, run_id, _unit, _dir, median, _q1, _q3 in measurement_summaries(
            store, ids
        ):
            if metric == "latency":
                bench = catalog.benchmarks[bench_id]
                timings[run_id].append(Timing(bench.suite, bench.name, bench.params, median))
    sections = [
        MachineSection(catalog.machines[m], catalog.environments[e], run, tables)
        for (m, e), run in latest.items()
        if (tables := side_by_side(timings[run.id]))
    ]
    return sorted(sections, key=lambda s: (str(s.machine["name"]), s.run.id))
