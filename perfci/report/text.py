"""Plain-text renderings for the console: run summaries, comparisons, run lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from perfci.compare import MIN_RUNS, Baseline, Comparison
from perfci.store.queries import HistoryRow, MetricRow, OutcomeRow, RunRow
from perfci.verdicts import (
    benchmark_label,
    interval_text,
    listing_key,
    metric_key,
    rank,
    ratio_text,
)

_TIME_UNITS = ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s"))
_BYTE_UNITS = ((1, "B"), (2**10, "KiB"), (2**20, "MiB"), (2**30, "GiB"), (2**40, "TiB"))


def _three_digits(value: float) -> str:
    """Three significant digits, never in scientific notation."""
    text = f"{value:.3g}"
    return f"{value:,.0f}" if "e" in text else text


def format_value(value: float, unit: str) -> str:
    """A value in the smallest multiple of its unit that keeps it under 1000 once rounded,
    three significant digits: 999.9 ms reads '1 s', 1000 bytes '0.977 KiB'."""
    scales = {"s": _TIME_UNITS, "bytes": _BYTE_UNITS}.get(unit)
    if scales is None:
        return f"{_three_digits(value)} {unit}"
    if value == 0:
        return f"0 {next(name for factor, name in scales if factor == 1)}"
    for factor, name in scales:
        if abs(float(f"{value / factor:.3g}")) < 1000:
            return f"{_three_digits(value / factor)} {name}"
    factor, name = scales[-1]
    return f"{_three_digits(value / factor)} {name}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) if params else ""


def run_summary(run: RunRow, metrics: Sequence[MetricRow], outcomes: Sequence[OutcomeRow]) -> str:
    """One line per benchmark with its median latency, throughput and cold start."""
    by_bench: dict[tuple[str, str, str], dict[str, MetricRow]] = {}
    for m in metrics:
        by_bench.setdefault(metric_key(m.suite, m.name, m.params, m.metric)[:3], {})[m.metric] = m
    rows = []
    for (suite, name, _), ms in by_bench.items():
        first = next(iter(ms.values()))
        latency, throughput, cold = ms.get("latency"), ms.get("throughput"), ms.get("cold_start")
        rows.append(
            [
                benchmark_label(suite, name),
                params_text(first.params),
                format_value(latency.median, "s") if latency else "",
                f"±{format_value((latency.q3 - latency.q1) / 2, 's')}" if latency else "",
                format_value(throughput.median, throughput.unit) if throughput else "",
                format_value(cold.median, "s") if cold else "",
            ]
        )
    head = (
        f"run {run.id} · commit {run.sha[:12]} · {run.machine} · {run.status}"
        f"{f' · profile {run.profile}' if run.profile else ''}"
    )
    parts = [head, table(["benchmark", "params", "median", "±IQR/2", "throughput", "cold"], rows)]
    for status, title in (("skipped", "Skipped"), ("error", "Failed")):
        chosen = [o for o in outcomes if o.status == status]
        if chosen:
            parts.append(f"{title} ({len(chosen)}):")
            parts += [
                f"  {o.suite}::{o.name} [{params_text(o.params)}]: {o.reason}" for o in chosen
            ]
    return "\n".join(parts)


def unmeasured_note(comparisons: Sequence[Comparison]) -> str | None:
    """One line for the metrics left without a verdict because too few runs measured
    their run-to-run noise (a fresh store: one run a side), instead of a row each."""
    count = sum(c.unmeasured for c in comparisons)
    if not count:
        return None
    return (
        f"{count} metric(s) have no verdict yet: their run-to-run noise is unknown with fewer "
        f"than {MIN_RUNS} runs in all (base and head); each further run of the base commit "
        "or of main adds one."
    )


def process_wide_note(comparisons: Sequence[Comparison]) -> str | None:
    """One line for the figures that cannot be attributed to a benchmark (kept in the
    JSON and on the dashboard, never a verdict), instead of a row each."""
    count = sum(not c.gates for c in comparisons)
    if not count:
        return None
    return (
        f"{count} process-wide memory figure(s) are kept but never judged: a process's peak "
        "includes what earlier work left resident."
    )


def comparison_report(baseline: Baseline, comparisons: Sequence[Comparison]) -> str:
    """Changed metrics first, each with its ratio and interval; a count of the rest."""
    if baseline.run is None:
        return f"No comparison: {baseline.reason}."
    counts: dict[str, int] = {}
    for c in comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: rank(kv[0])))
    rows = [
        [
            c.verdict,
            c.benchmark,
            params_text(c.params),
            c.metric,
            ratio_text(c.ratio),
            interval_text(c.ci),
            c.note or "",
        ]
        for c in sorted(
            comparisons, key=lambda c: listing_key(c.verdict, c.benchmark, c.params, c.metric)
        )
        if c.verdict != "unchanged" and not c.unmeasured and c.gates
    ]
    lines = [
        f"Compared with {baseline.reason}: {summary or 'nothing to compare'}.",
        "Intervals include run-to-run noise and are adjusted for the "
        f"{len(comparisons)} metrics compared (false-coverage rate 5%).",
    ]
    if note := unmeasured_note(comparisons):
        lines.append(note)
    if note := process_wide_note(comparisons):
        lines.append(note)
    lines += [f"  environment differs: {d}" for d in baseline.differences]
    lines += [f"  run conditions differ: {d}" for d in baseline.conditions]
    if rows:
        lines.append(
            table(
                ["verdict", "benchmark", "params", "metric", "head/base", "interval", "note"], rows
            )
        )
    return "\n".join(lines)


def runs_table(runs: Sequence[RunRow]) -> str:
    rows = [
        [
            str(r.id),
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.sha[:12],
            r.branch or "",
            r.machine,
            r.status,
            str(r.measurements),
            str(r.skipped),
            str(r.errors),
            (r.subject or "")[:50],
        ]
        for r in runs
    ]
    return table(
        [
            "run",
            "started (UTC)",
            "commit",
            "branch",
            "machine",
            "status",
            "metrics",
            "skipped",
            "failed",
            "subject",
        ],
        rows,
    )


def history_table(rows: Sequence[HistoryRow]) -> str:
    return table(
        ["run", "started (UTC)", "commit", "machine", "params", "median", "q1", "q3", "n"],
        [
            [
                str(r.run_id),
                r.started_at.strftime("%Y-%m-%d %H:%M"),
                r.sha[:12],
                r.machine,
                json.dumps(r.params, sort_keys=True),
                format_value(r.median, r.unit),
                format_value(r.q1, r.unit),
                format_value(r.q3, r.unit),
                str(r.n),
            ]
            for r in rows
        ],
    )
