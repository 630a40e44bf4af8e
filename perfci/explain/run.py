"""Profile one benchmark test on base and head, each side in fresh pytest processes, and
diff the profiles.

The sides are the A/B worktrees (`perfci.ab.worktree.sides`): each process runs the
side's own checkout with `--perfci-explain`, which profiles the benchmarked call
instead of timing it. Processes alternate base, head, head, base …, so what drifts on
the machine falls on both sides alike; each side runs `processes` of them (default 2)
unless the next one would not fit the time budget, in which case the noise comes from
the halves of one process per side (the explanation's `processes` says so). The
profiles and raw traces stay in the folder given, one subfolder per process.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfci import pytest_args
from perfci.ab.worktree import Side
from perfci.explain.diff import Explanation, diff_profiles
from perfci.explain.profile import Profile, ProfileError, read_profile

PROCESSES = 2
ORDER = "ABBA"  # which side each process is: A = base, B = head


class ExplainError(ValueError):
    """A side could not be profiled: one line for the user."""


class OutOfTime(ExplainError):
    """A side's process ran past what was left of the time budget."""


@dataclass(frozen=True)
class Request:
    """What to profile (pytest node ids or paths) and for how long."""

    selection: tuple[str, ...]
    calls: int
    budget_s: float
    processes: int = PROCESSES


@dataclass
class Report:
    """The explanations (one per test profiled on both sides), where the profiles are,
    and how the time went."""

    base_sha: str
    head_sha: str
    folder: Path
    request: Request
    explanations: list[Explanation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped: str = ""


def check_selection(selection: Sequence[str], roots: Sequence[Path]) -> None:
    """Every node id or path names tests that exist on each side; ExplainError if not."""
    for root in roots:
        try:
            found = pytest_args.targets(selection, root)
        except ValueError as exc:
            raise ExplainError(f"{exc} in {root}") from None
        if not found:
            raise ExplainError(f"-k names no test file in {root}: give a pytest node id")


def _command(side: Side, folder: Path, calls: int, selection: Sequence[str]) -> list[str]:
    plugins = []
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        plugins = ["-p", "perfci.plugin", "-p", "pytest_benchmark.plugin"]
    return [
        side.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins,
        f"--perfci-explain={folder}", f"--perfci-explain-calls={calls}", *selection,
    ]  # fmt: skip


def profile_once(side: Side, folder: Path, request: Request, timeout: float) -> list[Profile]:
    """One fresh process of `side`: the profile of every test the selection ran."""
    command = _command(side, folder, request.calls, request.selection)
    try:
        done = subprocess.run(
            command, cwd=side.root, env=side.env, capture_output=True, text=True,
            errors="replace", timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise OutOfTime(
            f"profiling the {side.name} side ({side.sha[:12]}) ran past the time budget"
        ) from None
    try:
        profiles = [read_profile(p) for p in sorted(folder.glob("*.json"))]
    except ProfileError as exc:
        raise ExplainError(str(exc)) from None
    if not profiles:
        last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        raise ExplainError(
            f"the {side.name} side ({side.sha[:12]}) profiled no benchmark test: pytest "
            f"exited {done.returncode}: {last[0][:200]}"
        )
    return profiles


def explain_sides(
    base: Side, head: Side, request: Request, folder: Path, progress: Callable[[str], None]
) -> Report:
    """Profile both sides, alternating, within the budget, and diff each test."""
    started = time.monotonic()
    report = Report(base.sha, head.sha, folder, request)
    runs: dict[str, list[list[Profile]]] = {"base": [], "head": []}
    durations: list[float] = []
    order = (ORDER * request.processes)[: 2 * request.processes]
    for index, letter in enumerate(order):
        side = base if letter == "A" else head
        elapsed = time.monotonic() - started
        left = request.budget_s - elapsed
        if runs[side.name] and durations and left < max(durations):
            report.stopped = "the time budget"
            break
        out = folder / f"{side.name}-{len(runs[side.name]) + 1}"
        out.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        runs[side.name].append(profile_once(side, out, request, max(left, 1.0)))
        durations.append(time.monotonic() - began)
        progress(f"profiled {side.name} ({index + 1}/{len(order)} processes)")
    else:
        report.stopped = f"{request.processes} process(es) per side"
    report.elapsed_s = time.monotonic() - started
    report.explanations, report.notes = _diffs(runs["base"], runs["head"])
    return report


def _diffs(
    base: list[list[Profile]], head: list[list[Profile]]
) -> tuple[list[Explanation], list[str]]:
    """One explanation per test profiled on both sides, in the head's order."""
    by_node_b: dict[str, list[Profile]] = {}
    for run in base:
        for p in run:
            by_node_b.setdefault(p.nodeid, []).append(p)
    by_node_h: dict[str, list[Profile]] = {}
    for run in head:
        for p in run:
            by_node_h.setdefault(p.nodeid, []).append(p)
    notes = [f"{node}: profiled on base only" for node in by_node_b if node not in by_node_h]
    explanations = []
    for node, profiles in by_node_h.items():
        if node not in by_node_b:
            notes.append(f"{node}: profiled on head only (a new test?)")
            continue
        explanations.append(diff_profiles(by_node_b[node], profiles))
    return explanations, notes
