"""A benchmark page's chart data: per metric and variant, one aligned series per machine,
with alerts and environment changes as events, and the overview's row for each variant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from perfci.compare import environment_differences
from perfci.dashboard.data import BenchmarkInfo, Catalog, Point, RunInfo
from perfci.dashboard.naming import params_label, variant_anchor
from perfci.report.text import format_value

PRIMARY_METRICS = ("latency", "throughput")  # the overview's sparkline, when present
SPARK_POINTS = 60
SPARK_W, SPARK_H = 120, 24
CHANGE_FLAG = 0.05  # the overview colours a latest change beyond this fraction


def _event_text(machine: str, diffs: Sequence[str]) -> str:
    return f"{machine}: environment changed: {'; '.join(diffs) or 'fingerprint only'}"


def page_data(
    catalog: Catalog, benchmarks: Sequence[BenchmarkInfo], points: Sequence[Point]
) -> dict[str, Any]:
    """JSON-ready data for one benchmark page. x is the index of a run in `runs`."""
    trend = {r.id for r in catalog.trend_runs()}
    points = [p for p in points if p.run_id in trend]
    runs: list[RunInfo] = sorted(
        {catalog.runs[p.run_id] for p in points}, key=lambda r: (r.started_at, r.id)
    )
    x_of = {r.id: i for i, r in enumerate(runs)}
    commits: dict[str, int] = {}
    commit_rows: list[list[Any]] = []
    machine_ids = sorted({r.machine_id for r in runs})
    machine_index = {m: i for i, m in enumerate(machine_ids)}
    run_rows = []
    for run in runs:
        if run.sha not in commits:
            commits[run.sha] = len(commit_rows)
            when = run.author_time or run.started_at
            commit_rows.append([run.sha, run.subject or "", when.strftime("%Y-%m-%d")])
        run_rows.append(
            [
                commits[run.sha],
                machine_index[run.machine_id],
                run.started_at.strftime("%Y-%m-%d %H:%M"),
                run.id,
            ]
        )

    env_events = _environment_events(catalog, runs, x_of)
    by_chart: dict[tuple[int, str], list[Point]] = defaultdict(list)
    for p in points:
        by_chart[(p.benchmark_id, p.metric)].append(p)
    alerts = defaultdict(list)
    for alert in catalog.alerts:
        alerts[(alert.benchmark_id, alert.metric)].append(alert)

    variants = []
    for bench in sorted(benchmarks, key=lambda b: params_label(b.params)):
        charts = []
        metrics = sorted(m for b, m in by_chart if b == bench.id)
        metrics.sort(key=lambda m: (m not in PRIMARY_METRICS, m))
        for metric in metrics:
            chart = _chart(
                catalog, bench, metric, by_chart[(bench.id, metric)], x_of, machine_index
            )
            events = env_events + _alert_events(catalog, alerts[(bench.id, metric)], runs)
            charts.append(chart | {"events": events})
        variants.append(
            {
                "anchor": variant_anchor(bench.key),
                "label": params_label(bench.params),
                "params": bench.params,
                "charts": charts,
            }
        )
    return {
        "commits": commit_rows,
        "runs": run_rows,
        "machines": [catalog.machines[m]["name"] for m in machine_ids],
        "variants": variants,
    }


def _chart(
    catalog: Catalog,
    bench: BenchmarkInfo,
    metric: str,
    points: Sequence[Point],
    x_of: dict[int, int],
    machine_index: dict[int, int],
) -> dict[str, Any]:
    n = len(x_of)
    series: dict[int, dict[str, list[float | None]]] = {}
    for p in points:
        machine = catalog.runs[p.run_id].machine_id
        s = series.setdefault(machine, {"median": [None] * n, "q1": [None] * n, "q3": [None] * n})
        x = x_of[p.run_id]
        s["median"][x], s["q1"][x], s["q3"][x] = p.median, p.q1, p.q3
    return {
        "id": f"{variant_anchor(bench.key)}-{metric}",
        "metric": metric,
        "unit": points[0].unit,
        "direction": points[0].direction,
        "count": len(points),
        "series": [{"machine": machine_index[m]} | s for m, s in sorted(series.items())],
    }


def _environment_events(
    catalog: Catalog, runs: Sequence[RunInfo], x_of: dict[int, int]
) -> list[dict[str, Any]]:
    events = []
    last: dict[int, int] = {}
    for run in runs:
        before = last.get(run.machine_id)
        if before is not None and before != run.environment_id:
            old, new = (
                {k: v for k, v in catalog.environments[e].items() if k != "id"}
                for e in (before, run.environment_id)
            )
            machine = catalog.machines[run.machine_id]["name"]
            events.append(
                {
                    "x": x_of[run.id],
                    "kind": "environment",
                    "text": _event_text(machine, environment_differences(old, new)),
                }
            )
        last[run.machine_id] = run.environment_id
    return events


def _alert_events(catalog: Catalog, alerts: Sequence[Any], runs: Sequence[RunInfo]) -> list[Any]:
    events = []
    for alert in alerts:
        x = next(
            (
                i
                for i, r in enumerate(runs)
                if r.commit_id == alert.commit_id and r.machine_id == alert.machine_id
            ),
            None,
        )
        machine = catalog.machines[alert.machine_id]["name"]
        events.append(
            {
                "x": x,
                "kind": alert.kind,
                "status": alert.status,
                "text": f"{machine}: {alert.kind} x{alert.magnitude:.3f} at {alert.sha[:12]}"
                f" ({alert.status})",
            }
        )
    return events


def overview_rows(
    catalog: Catalog, data: dict[str, Any], benchmarks: Sequence[BenchmarkInfo], href: str
) -> list[dict[str, Any]]:
    """One row per variant: its sparkline (primary metric, busiest machine) and latest change."""
    by_anchor = {variant_anchor(b.key): b for b in benchmarks}
    rows = []
    for variant in data["variants"]:
        bench = by_anchor[variant["anchor"]]
        charts = {c["metric"]: c for c in variant["charts"]}
        metric = next((m for m in PRIMARY_METRICS if m in charts), min(charts, default=None))
        row: dict[str, Any] = {
            "href": f"{href}#{variant['anchor']}",
            "suite": bench.suite,
            "name": bench.name,
            "label": variant["label"],
            "backend": str(bench.params.get("backend", "")),
            "device": str(bench.params.get("device", "")),
            "dtype": str(bench.params.get("dtype", "")),
            "machines": sorted(
                {data["machines"][s["machine"]] for c in variant["charts"] for s in c["series"]}
            ),
            "metric": metric,
            "spark": "",
            "latest": "",
            "change": None,
            "change_class": "",
        }
        if metric is not None:
            chart = charts[metric]
            busiest = max(chart["series"], key=lambda s: sum(v is not None for v in s["median"]))
            values = [v for v in busiest["median"] if v is not None]
            row["spark"] = _sparkline(values[-SPARK_POINTS:])
            row["latest"] = format_value(values[-1], chart["unit"])
            if len(values) >= 2 and values[-2] > 0:
                change = values[-1] / values[-2] - 1
                worse = change > 0 if chart["direction"] == "lower" else change < 0
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
