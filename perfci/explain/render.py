"""An explanation as JSON (the full diff), as text for the console, and as the collapsed
"why" section of a PR comment (the top changes).

Names come from the code under test (operators, functions, Core ML outputs): in
Markdown they are code spans, where GitHub renders nothing (`perfci.report.markdown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from perfci.explain.diff import Change, Explanation, SectionDiff
from perfci.report.markdown import code, escape
from perfci.report.text import format_value, params_text, table

FORMAT_VERSION = 1
TOOLS = {
    "torch": "torch.profiler",
    "mlx": "MLX graphs",
    "coreml": "Core ML compute plan",
    "python": "Python (cProfile)",
}
CLOCKS = {"device": "self device time", "cpu": "self CPU time"}


def explanation_json(e: Explanation) -> dict[str, Any]:
    """The full diff of one test, JSON-serialisable (the README documents the shape)."""
    return {
        "nodeid": e.nodeid,
        "suite": e.suite,
        "name": e.name,
        "params": e.params,
        "backend": e.backend,
        "device": e.device,
        "within_noise": e.within_noise,
        "processes": {"base": e.processes[0], "head": e.processes[1]},
        "summary": summary_line(e),
        "notes": list(e.notes),
        "sections": [_section_json(s) for s in e.sections],
    }


def _section_json(s: SectionDiff) -> dict[str, Any]:
    return {
        "tool": s.tool,
        "clock": s.clock,
        "within_noise": s.within_noise,
        "segments": {"base": s.segments_base, "head": s.segments_head},
        "total": {
            "base_s": s.base_total_s,
            "head_s": s.head_total_s,
            "delta_s": s.delta_s,
            "noise_s": s.noise_s,
        },
        "load_s": {"base": s.load_base_s, "head": s.load_head_s},
        "changes": [
            {**asdict(c), "shapes": list(c.shapes), "calls_delta": c.calls_delta, "moved": c.moved}
            for c in s.changes
        ],
    }


def summary_line(e: Explanation) -> str:
    """One sentence: within noise, or how many entries changed and the largest one."""
    notable = [(s, c) for s in e.sections for c in s.notable()]
    if not e.sections:
        return "nothing was profiled on both sides"
    if e.within_noise:
        return "every change is within the profiler's own run-to-run noise"
    if not notable:
        moved = [s for s in e.sections if not s.within_noise]
        return f"the total of {TOOLS[moved[0].tool]} moved beyond noise, spread thin"
    top = notable[0][1]
    return f"{len(notable)} change(s) beyond noise; the largest: {top.name} ({describe(top)})"


def describe(c: Change) -> str:
    """What changed about one entry, in words: `new`, `+1.2 ms/call`, `calls 1 → 2`, a
    device move."""
    parts = []
    if c.status in ("new", "vanished"):
        parts.append(c.status)
    if c.delta_s is not None and c.status != "within_noise":
        parts.append(f"{_signed(c.delta_s)}/call")
    if c.calls_changed:
        parts.append(f"calls {_count(c.calls_base)} → {_count(c.calls_head)}")
    if c.moved:
        parts.append(f"{c.device_base or 'default'} → {c.device_head or 'default'}")
    if c.cost_base is not None and c.cost_head is not None and c.cost_base != c.cost_head:
        parts.append(f"cost {c.cost_base:.1%} → {c.cost_head:.1%}")
    if c.status == "within_noise":
        parts.append("within noise")
    return ", ".join(parts) or c.status


def _signed(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "-"
    return f"{sign}{format_value(abs(seconds), 's')}"


def _count(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def _time(value: float | None) -> str:
    return "" if value is None else format_value(value, "s")


def explain_text(e: Explanation, limit: int = 15) -> str:
    """The console report of one test's diff: a line, then each section's top changes."""
    label = f"{e.suite}::{e.name}" + (f" [{params_text(e.params)}]" if e.params else "")
    lines = [f"{label}: {summary_line(e)}"]
    for s in e.sections:
        lines += ["", _section_heading(s)]
        shown = s.notable()[:limit]
        if shown:
            rows = [[c.name, describe(c), _time(c.base_s), _time(c.head_s), _time(c.noise_s)]
                    for c in shown]  # fmt: skip
            lines.append(table(["entry", "change", "base/call", "head/call", "noise"], rows))
        else:
            lines.append("no entry changed beyond noise")
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)


def _section_heading(s: SectionDiff) -> str:
    head = f"{TOOLS[s.tool]}"
    if s.clock is not None and s.delta_s is not None:
        head += (
            f", {CLOCKS[s.clock]} per call {_time(s.base_total_s)} → {_time(s.head_total_s)} "
            f"({_signed(s.delta_s)}, noise ±{_time(s.noise_s)}; "
            f"{s.segments_base}+{s.segments_head} segments)"
        )
    if s.load_base_s is not None or s.load_head_s is not None:
        head += f", load and compile {_time(s.load_base_s)} → {_time(s.load_head_s)}"
    return head + (": within noise" if s.within_noise else ":")


def explain_markdown(diff: Explanation, limit: int = 5) -> str:
    """The collapsed "why" section of one regression for the PR comment: a `<details>`
    whose summary says whether anything changed beyond the profiler's noise, and, per
    profiler, its `limit` top changes in a table. Names are code spans."""
    label = escape(f"{diff.suite}::{diff.name}")
    lines = [f"<details><summary>Why {label} changed: {escape(summary_line(diff))}</summary>", ""]
    for s in diff.sections:
        lines.append(escape(_section_heading(s)))
        shown = s.notable()[:limit]
        if shown:
            lines += [
                "",
                "| entry | change | base/call | head/call | noise |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {code(c.name)} | {escape(describe(c))} | {_time(c.base_s)} | "
                f"{_time(c.head_s)} | {_time(c.noise_s)} |"
                for c in shown
            ]
            more = len(s.notable()) - len(shown)
            if more > 0:
                lines.append(f"\n{more} more change(s) in the full diff (`--format json`).")
        lines.append("")
    lines += [f"- {escape(n)}" for n in diff.notes]
    lines += [
        "",
        f"Profiled {diff.processes[0]} + {diff.processes[1]} process(es); profiling "
        "explains a verdict, it never changes one.",
        "",
        "</details>",
    ]
    return "\n".join(lines)


def explanations_markdown(explanations: Sequence[Explanation], limit: int = 5) -> str:
    return "\n\n".join(explain_markdown(e, limit) for e in explanations)


# -- the full diff as a table's cells (the dashboard's pull-request page) -----------------

KINDS = {
    "operator": "operator",
    "kernel": "kernel",
    "graph": "graph",
    "primitive": "graph primitive",
    "function": "function",
}
_CORE_ML_KINDS = {"operation": "Core ML op", "layer": "Core ML layer"}
STATUS_WORDS = {
    "new": "new",
    "vanished": "vanished",
    "changed": "changed",
    "within_noise": "within noise",
    "unchanged": "unchanged",
}


def kind_label(kind: str) -> str:
    """What an entry is, in words: `aten::mm` an operator, an MLX graph or primitive, a
    Core ML op (`operation:conv`: "Core ML op conv") or layer, a Python function."""
    prefix, _, rest = kind.partition(":")
    if rest and prefix in _CORE_ML_KINDS:
        return f"{_CORE_ML_KINDS[prefix]} {rest}"
    return KINDS.get(kind, kind)


def section_heading(s: SectionDiff) -> str:
    """One profiler's line: its clock, the total per call base → head against its noise,
    the segments it had, Core ML's load time, and whether all of it is within noise."""
    return _section_heading(s)


def change_cells(c: Change) -> dict[str, str]:
    """Every figure of one entry as text, for a table of the full diff: what it is, its
    status, time per call base, head, the change and the noise it was judged against,
    calls per call base → head and their change, the device base → head (a move says so)
    and Core ML's cost share. Names are returned as they are: the caller escapes them."""
    moved = c.moved
    device = ""
    if moved:
        device = f"{c.device_base or 'default'} → {c.device_head or 'default'}"
    elif c.device_head or c.device_base:
        device = str(c.device_head or c.device_base)
    cost = ""
    if c.cost_base or c.cost_head:  # Core ML's estimate; other profilers give none (0)
        cost = " → ".join(f"{v:.1%}" if v is not None else "none"
                          for v in (c.cost_base, c.cost_head))  # fmt: skip
    delta = c.calls_delta
    return {
        "name": c.name,
        "kind": kind_label(c.kind),
        "status": STATUS_WORDS.get(c.status, c.status),
        "base": _time(c.base_s),
        "head": _time(c.head_s),
        "delta": "" if c.delta_s is None else _signed(c.delta_s),
        "noise": "" if c.noise_s is None else f"±{_time(c.noise_s)}",
        "calls": f"{_count(c.calls_base)} → {_count(c.calls_head)}",
        "calls_delta": "" if delta == 0 else f"{'+' if delta > 0 else '-'}{_count(abs(delta))}",
        "device": device,
        "moved": "moved" if moved else "",
        "cost": cost,
        "shapes": "; ".join(c.shapes),
    }
