"""The site builder: reads the store, renders dashboards/templates, writes only what changed."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from perfci import __version__
from perfci.ab.diff_file import read_plain
from perfci.config import Config
from perfci.dashboard import naming
from perfci.dashboard.backends import backend_sections
from perfci.dashboard.data import Catalog, load_catalog
from perfci.dashboard.kept import MAX_TRACE_BYTES
from perfci.dashboard.manifest import SiteWriter
from perfci.dashboard.outcomes import by_run
from perfci.dashboard.pages import benchmark_pages as _benchmark_pages
from perfci.dashboard.pulls import pull_requests
from perfci.dashboard.trend import Trend
from perfci.paths import dashboards_dir
from perfci.report.text import format_value
from perfci.store import Store
from perfci.store.catalog import RunSummary


@dataclass(frozen=True)
class BuildReport:
    out: Path
    pages: int  # pages in the site
    written: tuple[str, ...]  # files (re)written by this build
    removed: tuple[str, ...]  # files of the last build that no longer exist

    @property
    def index(self) -> Path:
        return self.out / naming.OVERVIEW


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(dashboards_dir() / "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["value"] = format_value
    env.filters["short"] = lambda sha: sha[:10]
    env.filters["href"] = naming.safe_href
    env.globals["commit_url"] = naming.commit_url
    env.globals["naming"] = naming
    return env


def _inputs_digest(options: dict[str, Any]) -> str:
    """Templates, static files, options and version: what shapes a page besides the store."""
    h = hashlib.sha256(json.dumps([__version__, options], sort_keys=True).encode())
    root = dashboards_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _static_files() -> list[tuple[str, bytes]]:
    root = dashboards_dir() / "static"
    return [
        (f"static/{p.relative_to(root).as_posix()}", p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def build_site(
    store: Store,
    out: Path,
    repo_url: str | None = None,
    base_url: str | None = None,
    branch: str | None = None,
    config: Config | None = None,
    pulls: Path | None = None,
) -> BuildReport:
    """Write the static site for `store` into `out`; pages whose inputs did not change
    since the last build into `out` are neither re-read nor rewritten. The charts follow
    `branch`'s first-parent history (default: main when the store has it, see
    `Catalog.trend_branch`); pull-request pages judge with `config` (default: the
    working directory's perfci.toml), as `perfci compare` does. `pulls`, perfci-data's
    pulls/ folder, adds what `perfci keep` kept beside the pull requests' results: A/B
    comparisons' pages and the regressions' profile diffs, with their raw traces copied
    into the site (`perfci.dashboard.pull_explain`)."""
    out.mkdir(parents=True, exist_ok=True)
    options = {"repo_url": repo_url, "base_url": base_url, "branch": branch}
    env = _templates()
    writer = SiteWriter.open(out, _inputs_digest(options))
    catalog = load_catalog(store)
    trend = Trend.of(store, catalog, branch)
    common: dict[str, Any] = {"repo_url": repo_url, "base_url": base_url, "version": __version__}

    for path, content in _static_files():
        writer.write(path, content)

    runs = sorted(catalog.runs.values(), key=lambda r: (r.started_at, r.id), reverse=True)
    archive = _run_archive(runs)
    common = common | {"run_page": {r.id: page for page, chunk in archive for r in chunk}}
    rows = _benchmark_pages(
        store, catalog, trend, writer, env.get_template("benchmark.html"), common
    )
    prs = pull_requests(store, catalog, config, pulls)
    for number, pull in prs.items():
        html = env.get_template("pull.html").render(common, root="../", pull=pull, catalog=catalog)
        writer.write(naming.pull_request_page(number), html)
        for path, kept in pull["files"]:
            writer.write(path, read_plain(kept.parent, kept.name, MAX_TRACE_BYTES))
    outcomes = by_run(catalog)
    full = archive[:-1]
    archived = [(page, chunk[-1], chunk[0]) for page, chunk in full]  # page, oldest, newest
    for number, (page, chunk) in enumerate(full, start=1):
        context = {"runs": chunk, "pulls": prs, "archived": [], "number": number}
        html = env.get_template("runs.html").render(
            common, root="../", catalog=catalog, outcomes=outcomes, **context
        )
        writer.write(page, html)

    overview = _overview_context(catalog, rows, trend, path_of=_groups_by_id(catalog))
    newest = {"runs": runs[: naming.RUNS_PER_PAGE], "pulls": prs, "archived": archived}
    pages = {
        naming.OVERVIEW: ("index.html", overview | {"pulls": prs}),
        naming.RUNS: ("runs.html", newest | {"number": None, "outcomes": outcomes}),
        naming.MACHINES: ("machines.html", {"runs": runs}),
        naming.BACKENDS: ("backends.html", {"sections": backend_sections(store, catalog)}),
    }
    for path, (template, context) in pages.items():
        html = env.get_template(template).render(common, root="", catalog=catalog, **context)
        writer.write(path, html)
    removed = writer.finish()
    page_count = sum(1 for p in writer.files if p.endswith(".html"))
    return BuildReport(out, page_count, tuple(writer.written), tuple(removed))


def _run_archive(runs: list[RunSummary]) -> list[tuple[str, list[RunSummary]]]:
    """Full pages of RUNS_PER_PAGE runs, counted from the oldest (each newest first), and
    the page each run's link points to; runs of the last, unfilled page are linked on
    runs.html, which always shows the newest RUNS_PER_PAGE."""
    size = naming.RUNS_PER_PAGE
    oldest_first = runs[::-1]
    full = len(oldest_first) // size
    archive = [
        (naming.runs_archive_page(i + 1), oldest_first[i * size : (i + 1) * size][::-1])
        for i in range(full)
    ]
    return [*archive, (naming.RUNS, oldest_first[full * size :][::-1])]


def _groups_by_id(catalog: Catalog) -> dict[int, str]:
    return {
        b.id: f"{naming.benchmark_page(b.suite, b.name)}#{naming.variant_anchor(b.key)}"
        for b in catalog.benchmarks.values()
    }


def _latest(catalog: Catalog, trend: Trend) -> list[dict[str, Any]]:
    """Per machine: the newest commit of the branch it measured (not its newest run: a
    re-run of an old commit is not the latest), with that commit's runs there."""
    rows = []
    for machine, at in sorted(trend.newest().items()):
        runs = trend.machine_runs(at)[machine]
        rows.append(
            {
                "machine": machine,
                "commit": trend.runs[at][0],
                "date": trend.commit_row(at)[2],
                "runs": runs,
                "newest": runs[-1],
                "behind": len(trend.shas) - 1 - at,
            }
        )
    return rows


def _overview_context(
    catalog: Catalog, rows: list[dict[str, Any]], trend: Trend, path_of: dict[int, str]
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(tzinfo=None)
    open_alerts = [
        {
            "alert": a,
            "bench": catalog.benchmarks[a.benchmark_id],
            "href": path_of[a.benchmark_id],
            "machine": catalog.machines[a.machine_id]["name"],
            "change": (a.magnitude - 1) * 100,
            "age_days": max((now - a.detected_at).days, 0),
        }
        for a in catalog.alerts
        if a.status == "open"
    ]
    open_alerts.sort(key=lambda x: (x["alert"].kind != "regression", -abs(x["change"])))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["suite"], row["backend"])].append(row)

    def options(field: str) -> list[str]:
        return sorted({r[field] for r in rows if r[field]})

    return {
        "open_alerts": open_alerts,
        "branch": trend.branch,
        "tip": trend.runs[-1][0] if trend.runs else None,
        "tip_date": trend.commit_row(len(trend.runs) - 1)[2] if trend.runs else None,
        "latest": _latest(catalog, trend),
        "groups": sorted(groups.items()),
        "filters": {
            "machine": sorted({m for r in rows for m in r["machines"]}),
            "backend": options("backend"),
            "device": options("device"),
            "dtype": options("dtype"),
        },
        "built_at": now,
        "benchmark_count": len(rows),
    }
