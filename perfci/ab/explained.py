"""Every regression explained: after the rounds, `perfci ab` profiles each regressed
benchmark's test function on base and head in the A/B's own worktrees
(`perfci.explain.explain_sides`), worst regression first, one test function at a time,
within a time budget of its own, and keeps the diffs and raw traces in the results
folder under `explain/`, named by the manifest's `explain` entry.

A test function that no longer fits what is left of the budget is left unexplained,
and said so; one whose profiling fails is too. Profiling explains a verdict, it never
changes one: nothing here touches the comparisons.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfci.ab.diff_file import (
    FAILED,
    FOLDER,
    TIME,
    ExplainedTest,
    ExplainEntry,
    Unexplained,
    write_diff,
)
from perfci.ab.worktree import Side, rerun_selection
from perfci.compare import Comparison
from perfci.explain.capture import profile_path
from perfci.explain.diff import Explanation
from perfci.explain.profile import ProfileError, read_profile
from perfci.explain.run import ExplainError, OutOfTime, Request, explain_sides
from perfci.results import canonical_params


@dataclass(frozen=True)
class Explained:
    """The diffs of one A/B comparison's regressions: the manifest's entry, and the
    explanations of its tests in the entry's order."""

    entry: ExplainEntry
    explanations: tuple[Explanation, ...]

    def of(self, c: Comparison) -> Explanation | None:
        """The diff of the benchmark variant `c` compares (its suite, name and params)."""
        suite, _, name = c.benchmark.partition("::")
        key = (suite, name, canonical_params(c.params))
        return next(
            (e for e in self.explanations if (e.suite, e.name, canonical_params(e.params)) == key),
            None,
        )


def regressions(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The regression verdicts, the largest change first."""
    found = [c for c in comparisons if c.verdict == "regression"]
    return sorted(found, key=lambda c: -abs(math.log(c.ratio)) if c.ratio else 0.0)


def explain_regressions(
    base: Side,
    head: Side,
    comparisons: Sequence[Comparison],
    out: Path,
    budget_s: float,
    calls: int,
    progress: Callable[[str], None],
) -> Explained | None:
    """Profile the test function of every regression in `comparisons` within `budget_s`;
    the profiles, traces and diffs go under `out`/explain/. None when nothing regressed."""
    found = regressions(comparisons)
    nodes = list(dict.fromkeys(rerun_selection(*c.benchmark.split("::", 1)) for c in found))
    if not nodes:
        return None
    started = time.monotonic()
    durations: list[float] = []
    tests: list[ExplainedTest] = []
    explanations: list[Explanation] = []
    unexplained: list[Unexplained] = []
    for node in nodes:
        left = budget_s - (time.monotonic() - started)
        if left <= 0 or (durations and left < max(durations)):  # the longest would not fit
            unexplained.append(Unexplained(node, TIME))
            continue
        began = time.monotonic()
        folder = out / FOLDER / f"test-{profile_path(Path(), node).stem}"
        request = Request((node,), calls, left)
        try:
            report = explain_sides(base, head, request, folder, _prefixed(progress, node))
        except ExplainError as exc:
            shutil.rmtree(folder, ignore_errors=True)  # no half a set of profiles left behind
            if not isinstance(exc, OutOfTime):
                progress(f"{node}: not explained: {exc}")
            unexplained.append(Unexplained(node, TIME if isinstance(exc, OutOfTime) else FAILED))
            continue
        finally:
            durations.append(time.monotonic() - began)
        for explanation in report.explanations:
            relative = (
                f"{FOLDER}/{folder.name}/diff-{profile_path(Path(), explanation.nodeid).name}"
            )
            write_diff(out, relative, explanation)
            traces = _traces(out, folder, explanation.nodeid)
            tests.append(ExplainedTest(explanation.nodeid, relative, traces))
            explanations.append(explanation)
    elapsed = time.monotonic() - started
    entry = ExplainEntry(budget_s, elapsed, calls, tuple(tests), tuple(unexplained))
    return Explained(entry, tuple(explanations))


def _prefixed(progress: Callable[[str], None], node: str) -> Callable[[str], None]:
    return lambda line: progress(f"{node}: {line}")


def _traces(out: Path, folder: Path, nodeid: str) -> tuple[str, ...]:
    """The raw traces of `nodeid`'s profiles in `folder` (one subfolder a process), as
    paths relative to `out`; plain files only (a Metal capture is a bundle, kept but not
    named)."""
    found = []
    for process in sorted(p for p in folder.iterdir() if p.is_dir()):
        path = profile_path(process, nodeid)
        try:
            profile = read_profile(path)
        except ProfileError:
            continue
        for section in profile.sections:
            for name in section.traces:
                trace = path.with_suffix("") / name
                if trace.is_file() and not trace.is_symlink():
                    found.append(trace.relative_to(out).as_posix())
    return tuple(found)
