"""A benchmark page's small header (its charts, events and chunk scripts; the points are in
the chunks) and the overview's row for each variant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from perfci.compare import environment_differences
from perfci.dashboard.data import AlertInfo, BenchmarkInfo, Catalog
from perfci.dashboard.history import ChartChunks, Trend, chart_id
from perfci.dashboard.naming import params_label, variant_anchor
from perfci.report.text import format_value

PRIMARY_METRICS = ("latency", "throughput")  # the overview's sparkline, when present
SPARK_POINTS = 60
SPARK_W, SPARK_H = 120, 24
CHANGE_FLAG = 0.05  # the overview colours a latest change beyond this fraction


def environment_events(catalog: Catalog, trend: Trend) -> list[tuple[int, int, str]]:
    """(position, machine, text) where a machine's environment differs from its last run's."""
    events = []
    last: dict[int, int] = {}
    for at, run in enumerate(trend.runs):
        before = last.get(run.machine_id)
        if before is not None and before != run.environment_id:
            old, new = (
                {k: v for k, v in catalog.environments[e].items() if k != "id"}
                for e in (before, run.environment_id)
            )
            diffs = environment_differences(old, new)
            machine = catalog.machines[run.machine_id]["name"]
            text = f"{machine}: environment changed: {'; '.join(diffs) or 'fingerprint only'}"
            events.append((at, run.machine_id, text))
        last[run.machine_id] = run.environment_id
    return events


def _drift(alert: AlertInfo) -> str:
    """The note a drift's event carries: where the values began to move."""
    if alert.shape != "drift" or alert.last_good_sha is None:
        return ""
    return f", drifting since {alert.last_good_sha[:12]}"


def alert_events(catalog: Catalog, trend: Trend) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """Per benchmark and metric: its alerts, at the position of the alerted commit's run."""
    at: dict[tuple[int, int], int] = {}
    for i, run in enumerate(trend.runs):
        at.setdefault((run.commit_id, run.machine_id), i)
    out: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for alert in catalog.alerts:
        machine = catalog.machines[alert.machine_id]["name"]
        out[(alert.benchmark_id, alert.metric)].append(
            {
                "x": at.get((alert.commit_id, alert.machine_id)),
                "kind": alert.kind,
                "status": alert.status,
                "text": f"{machine}: {alert.kind} x{alert.magnitude:.3f} at {alert.sha[:12]}"
                + _drift(alert)
                + f" ({alert.status})",
            }
        )
    return out


def page_header(
    catalog: Catalog,
    benchmarks: Sequence[BenchmarkInfo],
    extra: dict[str, Any],
    env_events: Sequence[tuple[int, int, str]],
    alerts: dict[tuple[int, str], list[dict[str, Any]]],
) -> dict[str, Any]:
    """What the page embeds: machines, variants and charts (with point counts and events).
    `extra` is the page's record: per chunk its script, counts and machines per chart."""
    counts: dict[str, int] = defaultdict(int)
    machines: dict[str, set[int]] = defaultdict(set)
    positions = {p for chunk in extra["chunks"].values() for p in chunk["positions"]}
    for chunk in extra["chunks"].values():
        for cid, n in chunk["counts"].items():
            counts[cid] += n
        for cid, ms in chunk["machines"].items():
            machines[cid].update(ms)
    variants = []
    for bench in sorted(benchmarks, key=lambda b: params_label(b.params)):
        metrics = [m for m in extra["meta"] if m[0] == bench.key]
        charts = []
        for _, metric, unit, direction in metrics:
            cid = chart_id(bench.key, metric)
            on = machines[cid]
            events = [
                {"x": x, "kind": "environment", "text": t}
                for x, m, t in env_events
                if m in on and x in positions
            ]
            charts.append(
                {
                    "id": cid,
                    "metric": metric,
                    "unit": unit,
                    "direction": direction,
                    "count": counts[cid],
                    "machines": sorted(catalog.machines[m]["name"] for m in on),
                    "events": events + alerts.get((bench.id, metric), []),
                }
            )
        charts.sort(key=lambda c: (c["metric"] not in PRIMARY_METRICS, c["metric"]))
        variants.append(
            {
                "anchor": variant_anchor(bench.key),
                "label": params_label(bench.params),
                "params": bench.params,
                "charts": charts,
            }
        )
    names = {m for ms in machines.values() for m in ms}
    return {
        "machines": {str(m): catalog.machines[m]["name"] for m in sorted(names)},
        "variants": variants,
        "chunks": [extra["chunks"][c]["path"] for c in sorted(extra["chunks"], key=int)],
    }


def overview_rows(
    catalog: Catalog,
    header: dict[str, Any],
    benchmarks: Sequence[BenchmarkInfo],
    recent: dict[int, dict[str, ChartChunks]],
    href: str,
) -> list[dict[str, Any]]:
    """One row per variant: its sparkline (primary metric, busiest machine, from the two
    newest chunks) and latest change."""
    by_anchor = {variant_anchor(b.key): b for b in benchmarks}
    rows = []
    for variant in header["variants"]:
        bench = by_anchor[variant["anchor"]]
        metrics = [c["metric"] for c in variant["charts"]]
        metric = next((m for m in PRIMARY_METRICS if m in metrics), min(metrics, default=None))
        row: dict[str, Any] = {
            "href": f"{href}#{variant['anchor']}",
            "suite": bench.suite,
            "name": bench.name,
            "label": variant["label"],
            "backend": str(bench.params.get("backend", "")),
            "device": str(bench.params.get("device", "")),
            "dtype": str(bench.params.get("dtype", "")),
            "machines": sorted({m for c in variant["charts"] for m in c["machines"]}),
            "metric": metric,
            "spark": "",
            "latest": "",
            "change": None,
            "change_class": "",
        }
        chart = recent.get(bench.id, {}).get(metric or "")
        if chart is not None:
            values: dict[int, list[float]] = defaultdict(list)
            for c in sorted(chart.chunks):
                for machine, (medians, _, _) in chart.chunks[c].items():
                    values[machine].extend(v for v in medians if v is not None)
            busiest = max(sorted(values), key=lambda m: len(values[m]))
            series = values[busiest]
            row["spark"] = _sparkline(series[-SPARK_POINTS:])
            row["latest"] = format_value(series[-1], chart.unit)
            if len(series) >= 2 and series[-2] > 0:
                change = series[-1] / series[-2] - 1
                worse = change > 0 if chart.direction == "lower" else change < 0
                row["change"] = round(change * 100, 1)
                row["change_class"] = (
                    ("worse" if worse else "better") if abs(change) >= CHANGE_FLAG else ""
                )
        rows.append(row)
    return rows


def _sparkline(values: Sequence[float]) -> str:
    """SVG polyline points, drawn by the server: the overview needs no script to show it."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = SPARK_W / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_H - 2 - (v - low) / span * (SPARK_H - 4):.1f}"
        for i, v in enumerate(values)
    )
