"""Baseline selection and per-metric verdicts between a base run and a head run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from perfci.stats.pairwise import classify, ratio_of_medians
from perfci.store import Store
from perfci.store.queries import (
    MetricRow,
    OutcomeRow,
    RunRow,
    environment_of,
    run_metrics,
    run_outcomes,
    runs_of_commit,
)

VerdictName = Literal[
    "regression", "improvement", "unchanged", "inconclusive", "new", "missing", "error"
]
DEFAULT_MIN_EFFECT = 0.05


@dataclass(frozen=True)
class Comparison:
    """One benchmark and metric: the fields of `compare --format json` (ARCHITECTURE.md §3)."""

    benchmark: str
    params: dict[str, Any]
    metric: str
    unit: str
    direction: str
    verdict: VerdictName
    ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    n_base: int
    n_head: int
    note: str | None = None


@dataclass(frozen=True)
class Baseline:
    run: RunRow | None
    reason: str  # how the run was chosen, or why there is none


def environment_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Readable differences between two environments, e.g. 'torch 2.12.0 → 2.13.0'."""
    diffs = []
    for key in sorted((set(a) | set(b)) - {"fingerprint", "packages"}):
        if a.get(key) != b.get(key):
            diffs.append(f"{key} {a.get(key)} → {b.get(key)}")
    pa, pb = a.get("packages") or {}, b.get("packages") or {}
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            diffs.append(f"{name} {pa.get(name) or 'absent'} → {pb.get(name) or 'absent'}")
    return diffs


def choose_baseline(store: Store, head: RunRow, ancestry: Sequence[str]) -> Baseline:
    """The latest earlier run on the same machine fingerprint and environment, on the head's
    commit or its nearest first-parent ancestor (`ancestry`: head's sha first). A nearer
    run on other hardware or software is reported, never silently compared."""
    mismatch: RunRow | None = None
    for distance, sha in enumerate(ancestry):
        earlier = [
            r
            for r in runs_of_commit(store, sha)
            if r.sha == sha and r.id != head.id and r.started_at <= head.started_at
        ]
        for run in earlier:
            same_hw = run.machine_fingerprint == head.machine_fingerprint
            if same_hw and run.environment_fingerprint == head.environment_fingerprint:
                where = (
                    "an earlier run of this commit"
                    if distance == 0
                    else (f"commit {sha[:12]}, {distance} first-parent step(s) back")
                )
                return Baseline(run, f"run {run.id}: {where}")
            mismatch = mismatch or run
    if mismatch is None:
        return Baseline(None, "no earlier run of this commit or its ancestors")
    if mismatch.machine_fingerprint != head.machine_fingerprint:
        return Baseline(None, f"the nearest earlier run ({mismatch.id}) was on other hardware")
    diffs = environment_differences(
        environment_of(store, mismatch.id), environment_of(store, head.id)
    )
    return Baseline(
        None,
        f"the nearest earlier run ({mismatch.id}) had another environment: {'; '.join(diffs)}",
    )


def _label(row: MetricRow | OutcomeRow) -> str:
    return f"{row.suite}::{row.name}"


def compare_metrics(
    base: Sequence[MetricRow],
    head: Sequence[MetricRow],
    head_outcomes: Sequence[OutcomeRow] = (),
    min_effect: float = DEFAULT_MIN_EFFECT,
) -> list[Comparison]:
    """Verdicts for every metric in either run; a benchmark that failed in head is `error`."""
    by_key = {row.key: row for row in base}
    head_keys = {row.key for row in head}
    failed = {
        (o.suite, o.name, json.dumps(o.params, sort_keys=True))
        for o in head_outcomes
        if o.status == "error"
    }
    out: list[Comparison] = []
    for row in head:
        before = by_key.get(row.key)
        if before is None:
            out.append(_unpaired(row, "new", n_base=0, n_head=row.n))
            continue
        estimate = ratio_of_medians(before.samples, row.samples)
        if estimate is None:
            ratio = row.median / before.median if before.median > 0 else None
            out.append(
                _unpaired(
                    row, "inconclusive", before.n, row.n, ratio, "fewer than 3 samples a side"
                )
            )
            continue
        out.append(
            Comparison(
                benchmark=_label(row),
                params=row.params,
                metric=row.metric,
                unit=row.unit,
                direction=row.direction,
                verdict=classify(estimate, row.direction, min_effect),  # type: ignore[arg-type]
                ratio=estimate.ratio,
                ci=(estimate.low, estimate.high),
                p_value=None,
                n_base=before.n,
                n_head=row.n,
            )
        )
    for row in base:
        if row.key not in head_keys:
            verdict: VerdictName = "error" if row.key[:3] in failed else "missing"
            out.append(_unpaired(row, verdict, n_base=row.n, n_head=0))
    return out


def _unpaired(
    row: MetricRow,
    verdict: VerdictName,
    n_base: int,
    n_head: int,
    ratio: float | None = None,
    note: str | None = None,
) -> Comparison:
    return Comparison(
        _label(row),
        row.params,
        row.metric,
        row.unit,
        row.direction,
        verdict,
        ratio,
        None,
        None,
        n_base,
        n_head,
        note,
    )


def compare_runs(
    store: Store, base_run_id: int, head_run_id: int, min_effect: float = DEFAULT_MIN_EFFECT
) -> list[Comparison]:
    return compare_metrics(
        run_metrics(store, base_run_id),
        run_metrics(store, head_run_id),
        run_outcomes(store, head_run_id),
        min_effect,
    )
