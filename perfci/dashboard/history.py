"""Benchmark histories in immutable chunks: the trend's commits, oldest first, cut every
CHUNK_COMMITS commits; each page keeps one content-addressed script per chunk it has data
in, so a new run rewrites only the chunk of its commit on the pages it measured."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perfci.dashboard.data import Catalog
from perfci.dashboard.manifest import digest
from perfci.dashboard.naming import variant_anchor
from perfci.dashboard.trend import CHUNK_COMMITS, Trend
from perfci.store import Store
from perfci.store.catalog import measurement_summaries

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def chunk_path(page: str, chunk: int, content: bytes) -> str:
    """`b/x.html` → `d/x-<chunk>-<content digest>.js`: a new content is a new name."""
    stem = page.removeprefix("b/").removesuffix(".html")
    return f"d/{stem}-{chunk}-{digest(content)[:12]}.js"


def chart_id(bench_key: str, metric: str) -> str:
    return f"{variant_anchor(bench_key)}-{metric}"


class Cells:
    """One machine's values on one chart over one chunk's positions: per commit, the median
    of its runs' medians (the line) and of their quartiles (the band); `run` the run of
    each single value, `more` every run's [run id, median, q1, q3] where a commit has
    several."""

    __slots__ = ("median", "more", "q1", "q3", "run")

    def __init__(self) -> None:
        self.median: list[float | None] = [None] * CHUNK_COMMITS
        self.q1: list[float | None] = [None] * CHUNK_COMMITS
        self.q3: list[float | None] = [None] * CHUNK_COMMITS
        self.run: list[int | None] = [None] * CHUNK_COMMITS
        self.more: dict[int, list[list[Any]]] = {}

    def add(self, i: int, run_id: int, median: float, q1: float, q3: float) -> None:
        first = self.run[i]
        if first is None:
            self.median[i], self.q1[i], self.q3[i], self.run[i] = median, q1, q3, run_id
            return
        more = self.more.get(i)
        if more is None:
            more = self.more[i] = [[first, self.median[i], self.q1[i], self.q3[i]]]
        more.append([run_id, median, q1, q3])

    def settle(self, order: dict[int, int]) -> None:
        """Where a commit has several runs: oldest first, and the line through their median."""
        for i, runs in self.more.items():
            runs.sort(key=lambda r: order[r[0]])
            for k, column in ((1, self.median), (2, self.q1), (3, self.q3)):
                column[i] = statistics.median(r[k] for r in runs)


@dataclass
class ChartChunks:
    """One chart's data, per chunk: {machine id: Cells} over the chunk's positions."""

    metric: str
    unit: str
    direction: str
    chunks: dict[int, dict[int, Cells]] = field(default_factory=dict)


def read_charts(
    store: Store, catalog: Catalog, trend: Trend, run_ids: Sequence[int] | None
) -> dict[int, dict[str, ChartChunks]]:
    """Per benchmark id and metric: the chunks of its history that these runs fall in."""
    position = trend.position
    runs = catalog.runs
    out: dict[int, dict[str, ChartChunks]] = {}
    rows = measurement_summaries(store, run_ids)
    for bench, metric, run_id, unit, direction, median, q1, q3 in rows:
        at = position.get(run_id)
        if at is None:  # a pull request's run, or off the branch's chain: not history
            continue
        charts = out.get(bench)
        if charts is None:
            charts = out[bench] = {}
        chart = charts.get(metric)
        if chart is None:
            chart = charts[metric] = ChartChunks(metric, unit, direction)
        chunk = chart.chunks.setdefault(at // CHUNK_COMMITS, {})
        machine = runs[run_id].machine_id
        cells = chunk.get(machine)
        if cells is None:
            cells = chunk[machine] = Cells()
        i = at % CHUNK_COMMITS
        if cells.run[i] is None:  # the usual case, inline: this loop sees every point
            cells.median[i], cells.q1[i], cells.q3[i], cells.run[i] = median, q1, q3, run_id
        else:
            cells.add(i, run_id, median, q1, q3)
    order = {r.id: i for i, r in enumerate(r for rs in trend.runs for r in rs)}
    for charts in out.values():
        for chart in charts.values():
            for chunk in chart.chunks.values():
                for cells in chunk.values():
                    if cells.more:
                        cells.settle(order)
    return out


def chunk_script(
    trend: Trend, chunk: int, charts: dict[str, dict[int, Cells]]
) -> tuple[bytes, dict[str, list[int]], list[int]]:
    """A page's chunk as a script (it calls perfciChunk: pages load it from file:// too), the
    number of points (runs) and of commits per chart, and the positions of its commits
    (those where the page has data: only they are listed, each with the runs that measured
    the page).

    A chart's machine is [medians, q1s, q3s] over the positions, and where a commit has
    several runs of that machine on the page, a fourth item {index: [[run id, median, q1,
    q3], ...]} with every one of them."""
    start = chunk * CHUNK_COMMITS
    pairs: set[tuple[int, int]] = set()  # (index, run) of every value on the page
    counts: dict[str, list[int]] = {}
    for cid, series in charts.items():
        n = 0
        at: set[int] = set()
        for cells in series.values():
            values = {i: run for i, run in enumerate(cells.run) if run is not None}
            pairs.update(values.items())
            at.update(values)
            n += len(values)
            for i, more in cells.more.items():
                pairs.update((i, r[0]) for r in more)
                n += len(more) - 1
        counts[cid] = [n, len(at)]
    used: dict[int, set[int]] = {}
    for i, run in pairs:
        used.setdefault(i, set()).add(run)
    runs = trend.runs
    commits: dict[str, list[Any]] = {}
    crowded: set[tuple[int, int]] = set()  # (index, machine) with several runs on the page
    for i in sorted(used):
        listed = [r for r in runs[start + i] if r.id in used[i]]
        if len(listed) > 1:
            machines = [r.machine_id for r in listed]
            crowded.update((i, m) for m in machines if machines.count(m) > 1)
        commits[str(start + i)] = [*trend.commit_row(start + i), [trend.run_row(r) for r in listed]]
    body = {
        "chunk": chunk,
        "start": start,
        "commits": commits,
        "charts": {
            cid: {str(m): _series(cells, m, crowded) for m, cells in sorted(series.items())}
            for cid, series in sorted(charts.items())
        },
    }
    data = json.dumps(body, separators=(",", ":"))
    for char, escaped in _ESCAPES:  # as Jinja2's tojson: no markup, even in a script file
        data = data.replace(char, escaped)
    text = "perfciChunk(" + data + ");\n"
    return text.encode(), counts, sorted(start + i for i in used)


def _series(cells: Cells, machine: int, crowded: set[tuple[int, int]]) -> list[Any]:
    """Without the trailing positions that have no value (a later commit leaves the chunk as
    it is); each run named where the commit's runs of this machine on the page are not one."""
    end = len(cells.median)
    while end and cells.median[end - 1] is None:
        end -= 1
    out: list[Any] = [cells.median[:end], cells.q1[:end], cells.q3[:end]]
    more = {i: runs for i, runs in cells.more.items()}
    for i, m in crowded:
        run = cells.run[i]
        if m == machine and run is not None and i not in more:
            more[i] = [[run, cells.median[i], cells.q1[i], cells.q3[i]]]
    if more:
        out.append({str(i): more[i] for i in sorted(more)})
    return out
