"""Benchmark pages, incrementally: which chunks of history are unchanged since the last
build (decided from the trend's commits and their runs and the newest measurement id,
without reading them), which to read and write again, and each page's small header."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from jinja2 import Template

from perfci.dashboard import naming
from perfci.dashboard.charts import (
    alert_events,
    change_verdicts,
    environment_events,
    overview_rows,
    page_header,
)
from perfci.dashboard.data import Catalog
from perfci.dashboard.history import ChartChunks, chart_id, chunk_path, chunk_script, read_charts
from perfci.dashboard.manifest import SiteWriter, digest
from perfci.dashboard.outcomes import by_benchmark
from perfci.dashboard.trend import CHUNK_COMMITS, Trend
from perfci.store import Store
from perfci.store.catalog import BenchmarkInfo, newest_measurement_id, runs_measured_after

RECENT_CHUNKS = 2  # read on every build: the overview's sparklines and latest changes


def groups(catalog: Catalog) -> dict[str, list[BenchmarkInfo]]:
    out: dict[str, list[BenchmarkInfo]] = defaultdict(list)
    for bench in catalog.benchmarks.values():
        out[naming.benchmark_page(bench.suite, bench.name)].append(bench)
    return out


def _clean_chunks(
    store: Store, writer: SiteWriter, trend: Trend, state: dict[str, Any]
) -> set[int]:
    """Chunks whose commits, runs and measurements are those of the last build."""
    before = writer.previous_state
    if not before or before.get("benchmarks") != state["benchmarks"]:
        return set()
    if not writer.all_present():
        return set()
    changed = runs_measured_after(store, before["max_measurement"])
    old = before["trend"]
    clean = set()
    for c in range(trend.chunks - RECENT_CHUNKS):
        same = trend.signature(c) == old[c * CHUNK_COMMITS : (c + 1) * CHUNK_COMMITS]
        if same and not changed.intersection(trend.run_ids(c)):
            clean.add(c)
    return clean


def benchmark_pages(
    store: Store,
    catalog: Catalog,
    trend: Trend,
    writer: SiteWriter,
    template: Template,
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    """Write every benchmark page and its changed chunks; the overview's rows."""
    newest = newest_measurement_id(store)
    keys = sorted(b.key for b in catalog.benchmarks.values())
    writer.state = {
        "trend": trend.state(),
        "max_measurement": newest,
        "benchmarks": digest(json.dumps(keys).encode()),
    }
    clean = _clean_chunks(store, writer, trend, writer.state)
    dirty = [c for c in range(trend.chunks) if c not in clean]
    wanted = None if not clean else [i for c in dirty for i in trend.run_ids(c)]
    charts = read_charts(store, catalog, trend, wanted)
    first_recent = trend.chunks - RECENT_CHUNKS
    env_events = environment_events(catalog, trend)
    alerts = alert_events(catalog, trend)
    verdicts = change_verdicts(catalog)
    outcomes = by_benchmark(catalog, trend)

    rows: list[dict[str, Any]] = []
    for path, benches in sorted(groups(catalog).items()):
        before = (writer.previous_pages.get(path) or {}).get("extra") if clean else None
        extra: dict[str, Any] = {"chunks": {}, "meta": []}
        meta: dict[tuple[str, str], tuple[str, str]] = {}
        if before is not None:
            meta = {(k, m): (u, d) for k, m, u, d in before["meta"]}
            for c, chunk in before["chunks"].items():
                if int(c) in clean:
                    writer.keep(chunk["path"])
                    extra["chunks"][c] = chunk
        recent: dict[int, dict[str, ChartChunks]] = {}
        for bench in benches:
            for metric, chart in charts.get(bench.id, {}).items():
                meta[(bench.key, metric)] = (chart.unit, chart.direction)
                tail = {c: v for c, v in chart.chunks.items() if c >= first_recent}
                recent.setdefault(bench.id, {})[metric] = ChartChunks(
                    metric, chart.unit, chart.direction, tail
                )
        for c in dirty:
            data = {
                chart_id(bench.key, metric): chart.chunks[c]
                for bench in benches
                for metric, chart in charts.get(bench.id, {}).items()
                if c in chart.chunks
            }
            if not data:
                continue
            content, counts, positions = chunk_script(trend, c, data)
            name = chunk_path(path, c, content)
            writer.write(name, content)
            extra["chunks"][str(c)] = {
                "path": name,
                "counts": counts,
                "positions": positions,
                "machines": {cid: sorted(series) for cid, series in data.items()},
            }
        extra["meta"] = [[k, m, u, d] for (k, m), (u, d) in sorted(meta.items())]
        header = page_header(catalog, benches, extra, env_events, alerts)
        ids = {b.id for b in benches}
        html = template.render(
            common,
            root="../",
            suite=benches[0].suite,
            name=benches[0].name,
            data=header,
            alerts=[a for a in catalog.alerts if a.benchmark_id in ids],
            machines=catalog.machines,
            outcomes={naming.variant_anchor(b.key): outcomes.get(b.id, []) for b in benches},
            branch=trend.branch,
        )
        writer.write(path, html, key="", extra=extra)
        rows.extend(
            overview_rows(catalog, header, benches, recent, path, trend, verdicts, outcomes)
        )
    return rows
