"""Benchmark histories in immutable chunks: the trend runs, oldest first, cut every
CHUNK_RUNS runs; each page keeps one content-addressed script per chunk it has data in,
so a new run rewrites only the last chunk of the pages it measured."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from perfci.dashboard.data import Catalog, RunInfo
from perfci.dashboard.manifest import digest
from perfci.dashboard.naming import variant_anchor
from perfci.store import Store
from perfci.store.models import Measurement

CHUNK_RUNS = 100
_FETCH = 20_000
Series = list[list[float | None]]  # medians, q1s, q3s
_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def chunk_of(position: int) -> int:
    return position // CHUNK_RUNS


def chunk_path(page: str, chunk: int, content: bytes) -> str:
    """`b/x.html` → `d/x-<chunk>-<content digest>.js`: a new content is a new name."""
    stem = page.removeprefix("b/").removesuffix(".html")
    return f"d/{stem}-{chunk}-{digest(content)[:12]}.js"


def chart_id(bench_key: str, metric: str) -> str:
    return f"{variant_anchor(bench_key)}-{metric}"


@dataclass
class Trend:
    """The trend runs in order and where each sits."""

    runs: list[RunInfo]
    position: dict[int, int] = field(default_factory=dict)
    rows: dict[int, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalog: Catalog) -> Trend:
        runs = catalog.trend_runs()
        return cls(runs, {r.id: i for i, r in enumerate(runs)})

    @property
    def chunks(self) -> int:
        return chunk_of(len(self.runs) - 1) + 1 if self.runs else 0

    def row(self, at: int) -> list[Any]:
        """What a chart's tooltip shows of the run at `at` (made once per build)."""
        row = self.rows.get(at)
        if row is None:
            run = self.runs[at]
            when = run.author_time or run.started_at
            row = self.rows[at] = [
                run.sha,
                run.subject or "",
                when.strftime("%Y-%m-%d"),
                run.machine_id,
                run.started_at.strftime("%Y-%m-%d %H:%M"),
                run.id,
            ]
        return row

    def ids(self, chunk: int) -> list[int]:
        return [r.id for r in self.runs[chunk * CHUNK_RUNS : (chunk + 1) * CHUNK_RUNS]]


def measurements(store: Store, run_ids: Sequence[int] | None) -> Iterator[tuple[Any, ...]]:
    """(benchmark, metric, run, unit, direction, median, q1, q3) rows of these runs (all
    when None), in table order: one streamed scan for the site, no index lookups."""
    query = select(
        Measurement.benchmark_id,
        Measurement.metric,
        Measurement.run_id,
        Measurement.unit,
        Measurement.direction,
        Measurement.median,
        Measurement.q1,
        Measurement.q3,
    )
    if run_ids is not None:
        query = query.where(Measurement.run_id.in_(sorted(run_ids)))
    # integers only: inlined, so the DB-API cursor runs it without SQLAlchemy's per-row cost
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            yield from rows
        cursor.close()
    finally:
        raw.close()


@dataclass
class ChartChunks:
    """One chart's data, per chunk: {machine id: [medians, q1s, q3s]} over the chunk's runs."""

    metric: str
    unit: str
    direction: str
    chunks: dict[int, dict[int, list[list[float | None]]]] = field(default_factory=dict)


def read_charts(
    store: Store, catalog: Catalog, trend: Trend, run_ids: Sequence[int] | None
) -> dict[int, dict[str, ChartChunks]]:
    """Per benchmark id and metric: the chunks of its history that these runs fall in."""
    position = trend.position
    runs = catalog.runs
    out: dict[int, dict[str, ChartChunks]] = {}
    for bench, metric, run_id, unit, direction, median, q1, q3 in measurements(store, run_ids):
        at = position.get(run_id)
        if at is None:  # a pull-request run: not history
            continue
        charts = out.get(bench)
        if charts is None:
            charts = out[bench] = {}
        chart = charts.get(metric)
        if chart is None:
            chart = charts[metric] = ChartChunks(metric, unit, direction)
        chunk = chart.chunks.setdefault(at // CHUNK_RUNS, {})
        machine = runs[run_id].machine_id
        series = chunk.get(machine)
        if series is None:
            series = chunk[machine] = [[None] * CHUNK_RUNS for _ in range(3)]
        i = at % CHUNK_RUNS
        series[0][i], series[1][i], series[2][i] = median, q1, q3
    return out


def chunk_script(
    trend: Trend, chunk: int, charts: dict[str, dict[int, Series]]
) -> tuple[bytes, dict[str, int], list[int]]:
    """A page's chunk as a script (it calls perfciChunk: pages load it from file:// too) and
    the number of points per chart and the positions of its runs (those where the page
    has data: only they are listed)."""
    start = chunk * CHUNK_RUNS
    used: set[int] = set()
    counts: dict[str, int] = {}
    for cid, series in charts.items():
        n = 0
        for medians, _, _ in series.values():
            for i, v in enumerate(medians):
                if v is not None:
                    used.add(i)
                    n += 1
        counts[cid] = n
    runs = {}
    for i in sorted(used):
        runs[str(start + i)] = trend.row(start + i)
    body = {
        "chunk": chunk,
        "start": start,
        "runs": runs,
        "charts": {
            cid: {str(m): _trimmed(s) for m, s in sorted(series.items())}
            for cid, series in sorted(charts.items())
        },
    }
    data = json.dumps(body, separators=(",", ":"))
    for char, escaped in _ESCAPES:  # as Jinja2's tojson: no markup, even in a script file
        data = data.replace(char, escaped)
    text = "perfciChunk(" + data + ");\n"
    return text.encode(), counts, sorted(start + i for i in used)


def _trimmed(series: list[list[float | None]]) -> list[list[float | None]]:
    """Without the trailing runs that have no value: a later run leaves the chunk as is."""
    end = len(series[0])
    while end and series[0][end - 1] is None:
        end -= 1
    return [values[:end] for values in series]
