"""A benchmark page's small header (its charts, events and chunk scripts; the points are in
the chunks) and the overview's row for each variant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from perfci.compare import environment_differences
from perfci.dashboard.data import Catalog
from perfci.dashboard.history import ChartChunks, chart_id
from perfci.dashboard.naming import params_label, variant_anchor
from perfci.dashboard.outcomes import BenchmarkOutcome
from perfci.dashboard.trend import CHUNK_COMMITS, Trend
from perfci.report.text import format_value
from perfci.store.catalog import AlertInfo, BenchmarkInfo

PRIMARY_METRICS = ("latency", "throughput")  # the overview's sparkline, when present
SPARK_POINTS = 60
SPARK_W, SPARK_H = 120, 24


def environment_events(catalog: Catalog, trend: Trend) -> list[tuple[int, int, str]]:
    """(position, machine, text) where a machine's environment differs from the one it had
    at the previous commit it measured (each commit by its first run there: a later re-run
    of an old commit in a new environment is not a change of the history)."""
    events = []
    last: dict[int, int] = {}
    for at in range(len(trend.shas)):
        for machine, runs in sorted(trend.machine_runs(at).items()):
            env = runs[0].environment_id
            before = last.get(machine)
            if before is not None and before != env:
                old, new = (
                    {k: v for k, v in catalog.environments[e].items() if k != "id"}
                    for e in (before, env)
                )
                diffs = environment_differences(old, new)
                name = catalog.machines[machine]["name"]
                text = f"{name}: environment changed: {'; '.join(diffs) or 'fingerprint only'}"
                events.append((at, machine, text))
            last[machine] = env
    return events


def _drift(alert: AlertInfo) -> str:
    """The note a drift's event carries: where the values began to move."""
    if alert.shape != "drift" or alert.last_good_sha is None:
        return ""
    return f", drifting since {alert.last_good_sha[:12]}"


def alert_events(catalog: Catalog, trend: Trend) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """Per benchmark and metric: its alerts, at the position of the alerted commit (None
    when the commit is not on the branch's chain)."""
    out: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for alert in catalog.alerts:
        machine = catalog.machines[alert.machine_id]["name"]
        out[(alert.benchmark_id, alert.metric)].append(
            {
                "x": trend.at.get(alert.commit_id),
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
    """What the page embeds: machines, variants and charts (with point and commit counts and
    events). `extra` is the page's record: per chunk its script, counts and machines per
    chart."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    machines: dict[str, set[int]] = defaultdict(set)
    positions = {p for chunk in extra["chunks"].values() for p in chunk["positions"]}
    for chunk in extra["chunks"].values():
        for cid, (points, commits) in chunk["counts"].items():
            counts[cid][0] += points
            counts[cid][1] += commits
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
                    "count": counts[cid][0],
                    "commits": counts[cid][1],
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


Verdicts = dict[tuple[int, str, int, int], AlertInfo]


def change_verdicts(catalog: Catalog) -> Verdicts:
    """The alerts that call a change a regression or an improvement, by benchmark, metric,
    machine and commit (the newest where several): the only verdicts the overview has."""
    out: Verdicts = {}
    for alert in catalog.alerts:  # newest first
        if alert.kind in ("regression", "improvement"):
            key = (alert.benchmark_id, alert.metric, alert.machine_id, alert.commit_id)
            out.setdefault(key, alert)
    return out


def overview_rows(
    catalog: Catalog,
    header: dict[str, Any],
    benchmarks: Sequence[BenchmarkInfo],
    recent: dict[int, dict[str, ChartChunks]],
    href: str,
    trend: Trend,
    verdicts: Verdicts,
    outcomes: dict[int, list[BenchmarkOutcome]],
) -> list[dict[str, Any]]:
    """One row per variant: its sparkline (primary metric, busiest machine, per commit from
    the two newest chunks), its value at the newest commit and the change from the commit
    before. A change is coloured only where an alert at that commit calls it a regression
    or an improvement; a difference is not a verdict. A variant without values says why
    (its newest skip or error)."""
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
            "latest_at": "",
            "change": None,
            "change_class": "",
            "verdict": "",
            "nothing": None,
        }
        chart = recent.get(bench.id, {}).get(metric or "")
        if chart is not None:
            points: dict[int, list[tuple[int, float]]] = defaultdict(list)
            for c in sorted(chart.chunks):
                for machine, cells in chart.chunks[c].items():
                    start = c * CHUNK_COMMITS
                    points[machine].extend(
                        (start + i, v) for i, v in enumerate(cells.median) if v is not None
                    )
            busiest = max(sorted(points), key=lambda m: len(points[m]))
            series = points[busiest]
            values = [v for _, v in series]
            at, value = series[-1]
            row["spark"] = _sparkline(values[-SPARK_POINTS:])
            row["latest"] = format_value(value, chart.unit)
            name = catalog.machines[busiest]["name"]
            row["latest_at"] = f"{name} at {trend.shas[at][:10]} ({trend.commit_row(at)[2]})"
            if len(series) >= 2 and values[-2] > 0:
                row["change"] = round((value / values[-2] - 1) * 100, 1)
                commit = trend.runs[at][0].commit_id
                alert = verdicts.get((bench.id, chart.metric, busiest, commit))
                if alert is not None:
                    row["change_class"] = "worse" if alert.kind == "regression" else "better"
                    row["verdict"] = f"{alert.kind} alert ({alert.status})"
        elif outcomes.get(bench.id):
            row["nothing"] = max(outcomes[bench.id], key=lambda o: o.order)
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
