"""A confirmation's runs: each series' figure in them, and how they are stored.

A confirmation round's run measured every benchmark its pair was suspected on, with all
their metrics; only the series whose paired rounds support their suspicion join the
branch's history (trigger `confirm`). The rest stays what it was measured as, a
same-job A/B run (trigger `ab`, never history): kept in the store, with the runs'
outcomes, but never seen by the detector, the trends or the base runs of main.
"""

from __future__ import annotations

import dataclasses

from perfci.ab.session import TRIGGER as AB_TRIGGER
from perfci.results import RunResult, canonical_params

TRIGGER = "confirm"  # history: not in perfci.results.NOT_HISTORY
MEASURED_AGAIN = frozenset({TRIGGER, AB_TRIGGER})  # a confirmation's runs, either way
SeriesName = tuple[str, str, str, str]  # suite, name, canonical params, metric


def figure(run: RunResult, series: SeriesName) -> float | None:
    """The series' figure in one run: its metric's median, as the store's history has it."""
    suite, name, params, metric = series
    for b in run.benchmarks:
        if (b.suite, b.name) == (suite, name) and canonical_params(b.params) == params:
            for m in b.metrics:
                if m.name == metric:
                    return m.summarized().median
    return None


def as_stored(run: RunResult, history: set[SeriesName]) -> list[RunResult]:
    """A confirmation round's run as it is stored: the metrics of `history` (the series
    whose rounds support their suspicion) as a history run of its commit (trigger
    `confirm`), and the rest, with the outcomes, as the A/B run it was measured as
    (trigger `ab`; its run id suffixed `/ab` when the run is split)."""
    kept, aside = [], []
    for b in run.benchmarks:
        key = (b.suite, b.name, canonical_params(b.params))
        mine = tuple(m for m in b.metrics if (*key, m.name) in history)
        rest = tuple(m for m in b.metrics if (*key, m.name) not in history)
        kept += [dataclasses.replace(b, metrics=mine)] if mine else []
        aside += [dataclasses.replace(b, metrics=rest)] if rest else []
    info = dataclasses.replace(run.run, trigger=TRIGGER)
    parts = (
        [dataclasses.replace(run, run=info, benchmarks=tuple(kept), outcomes=())] if kept else []
    )
    if aside or run.outcomes or not kept:
        suffix = "/ab" if kept else ""
        info = dataclasses.replace(run.run, run_id=run.run.run_id + suffix, trigger=AB_TRIGGER)
        parts.append(dataclasses.replace(run, run=info, benchmarks=tuple(aside)))
    return parts
