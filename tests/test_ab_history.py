"""A same-job A/B run (trigger `ab`) answers its own question: it is stored with the
commit it measured, and never becomes that branch's history: no base run, no point of a
detected series, no chart point, no trend point."""

from __future__ import annotations

import dataclasses

from factories import benchmark, run, sha

from perfci.baseline import choose_baseline
from perfci.dashboard.data import load_catalog
from perfci.dashboard.trend import Trend
from perfci.results import RunResult
from perfci.store import Store
from perfci.store.alert_rows import series_points
from perfci.store.ingest import ingest_runs
from perfci.store.queries import branch_tip, get_run
from perfci.store.trends import recent_medians


def _push(i: int, shas: list[str], latency: float, trigger: str = "push") -> RunResult:
    result = run(
        shas[i],
        parents=tuple(shas[i - 1 : i]),
        benchmarks=(benchmark(latency=latency),),
        started_at=f"2026-11-0{i + 1}T10:00:00+00:00",
    )
    return dataclasses.replace(result, run=dataclasses.replace(result.run, trigger=trigger))


def test_ab_runs_are_never_history(store: Store) -> None:
    shas = [sha(f"h{i}") for i in range(4)]
    pushes = [_push(i, shas, 1e-3) for i in range(3)]
    # an A/B run of the newest pushed commit, far slower, stored after the pushes, and an
    # A/B run of a commit that only A/B measured
    ab_old = _push(2, shas, 9e-3, trigger="ab")
    ab_new = _push(3, shas, 9e-3, trigger="ab")
    stored = ingest_runs(store, [*pushes, ab_old, ab_new])
    ab_ids = {stored[3].run_id, stored[4].run_id}

    assert branch_tip(store, "main") == shas[2]  # the A/B-only commit is not main's tip
    chain = shas[2::-1]
    series = series_points(store, chain)
    points = [p for key, values in series.items() if key[1] == "latency" for p in values]
    assert len(points) == 3 and max(p.value for p in points) < 5e-3

    head = get_run(store, stored[2].run_id)
    assert head is not None
    baseline = choose_baseline(store, head, chain, earlier_only=False)
    assert baseline.runs and not {r.id for r in baseline.runs} & ab_ids

    trend = Trend.of(store, load_catalog(store), "main")
    assert not {r.id for runs in trend.runs for r in runs} & ab_ids

    medians = recent_medians(store, chain, head.machine_fingerprint, head.environment_fingerprint)
    latency = [v for key, values in medians.items() if key[3] == "latency" for v in values]
    assert len(latency) == 3 and max(latency) < 5e-3
