"""The pull-request page's "why" sections: for each regression the page's own verdicts
find and the head's kept folder (`perfci.dashboard.kept`) has a diff of, the full diff
table (`perfci.explain.render`'s data model: every entry, its time and calls per call
base → head, new and vanished ones, device moves, each against the profiler's noise)
and links to the raw traces, copied into the site under names of its own.

Profiling explains a verdict, never changes one: the diffs only attach to verdicts the
page judged itself, and a diff profiled against another commit than the page's base is
left out, and said so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfci.ab.explained import regressions
from perfci.compare import Comparison
from perfci.dashboard.kept import KeptHead, Trace
from perfci.dashboard.naming import params_label, slug
from perfci.explain.diff import Explanation
from perfci.explain.render import change_cells, section_heading, summary_line
from perfci.report.text import format_value
from perfci.results import canonical_params


@dataclass
class Whys:
    """What the page shows of the head's profile diffs, and the trace files to copy into
    the site (its path, the kept file)."""

    sections: list[dict[str, Any]] = field(default_factory=list)
    line: str | None = None  # what profiling took, or why the diffs are left out
    by_anchor: dict[str, str] = field(default_factory=dict)  # verdict row → its why's id
    files: list[tuple[str, Path]] = field(default_factory=list)


def why_id(nodeid: str) -> str:
    """A why section's id on the page: stable for the test's node id."""
    return f"why-{hashlib.sha256(nodeid.encode()).hexdigest()[:12]}"


def trace_page_path(number: int, head: str, k: int, j: int, name: str) -> str:
    """Where a raw trace is served: under the pull request's folder, per head commit,
    a name of lower-case letters, digits and dashes (`naming.slug`) kept as gzip JSON."""
    return f"pr/{number}/{head[:12]}/trace-{k}-{j}-{slug(name.removesuffix('.json'), 80)}.json.gz"


def page_whys(
    comparisons: Sequence[Comparison],
    anchors: dict[tuple[str, str, str], str],
    kept: KeptHead | None,
    base_sha: str | None,
) -> Whys:
    """The why sections of `comparisons`' regressions, worst first, one per profiled test
    (a test whose several metrics or variants regressed has one). `anchors` maps a
    verdict (benchmark, canonical params, metric) to its row's id; `base_sha` is the
    commit the page's verdicts were judged against."""
    whys = Whys()
    if kept is None or kept.explained is None or not regressions(comparisons):
        return whys
    explained = kept.explained
    if kept.profiled_base != base_sha:
        shown = (kept.profiled_base or "?")[:12]
        whys.line = (
            f"Profile diffs left out: the head was profiled against {shown}, not the "
            "commit of this page's base runs."
        )
        return whys
    from perfci.ab.report import explain_line  # it imports the comment, which imports us

    whys.line = explain_line(explained, markdown=False)
    order = [t.nodeid for t in explained.entry.tests]
    seen: dict[str, dict[str, Any]] = {}
    for c in regressions(comparisons):
        e = explained.of(c)
        if e is None:
            continue
        anchor = anchors.get((c.benchmark, canonical_params(c.params), c.metric))
        if e.nodeid not in seen:
            k = order.index(e.nodeid) + 1
            traces = kept.traces.get(e.nodeid, ())
            seen[e.nodeid] = _section(e, _links(kept, k, traces, whys.files))
        if anchor is not None:
            whys.by_anchor[anchor] = why_id(e.nodeid)
            seen[e.nodeid]["verdicts"].append(anchor)
    whys.sections = list(seen.values())
    return whys


def _links(
    kept: KeptHead, k: int, traces: Sequence[Trace], files: list[tuple[str, Path]]
) -> list[dict[str, Any]]:
    links = []
    for j, t in enumerate(traces, start=1):
        size = format_value(float(t.size), "bytes") if t.size else ""
        if t.file is None:
            links.append({"name": t.name, "href": None, "size": size, "left_out": t.left_out})
            continue
        path = trace_page_path(kept.number, kept.head, k, j, t.name)
        files.append((path, kept.folder / t.file))
        links.append({"name": t.name, "href": path, "size": size, "left_out": None})
    return links


def _section(e: Explanation, traces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": why_id(e.nodeid),
        "label": f"{e.suite}::{e.name}",
        "params": params_label(e.params) if e.params else "",
        "nodeid": e.nodeid,
        "summary": summary_line(e),
        "within_noise": e.within_noise,
        "sections": [
            {
                "heading": section_heading(s),
                "within_noise": s.within_noise,
                "notable": len(s.notable()),
                "rows": [change_cells(c) | {"status_key": c.status} for c in s.changes],
            }
            for s in e.sections
        ],
        "notes": list(e.notes),
        "processes": e.processes,
        "traces": traces,
        "verdicts": [],
    }
