"""A whole bisection: the range's commits searched step by step, each step measured
against the good end within its share of the time budget, each step's runs handed on
to be stored as soon as it is done."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from perfci.bisect.history import CommitRef, Range
from perfci.bisect.search import Bisection, Step, StepResult, search
from perfci.bisect.step import Selection, measure
from perfci.config import Config
from perfci.results import RunResult


@dataclass(frozen=True)
class Limits:
    """Rounds a step may take at most, and seconds for the whole bisection."""

    max_rounds: int
    budget_s: float


def half_change(magnitude: float) -> float:
    """The minimum effect that splits an alert's change in two on the log scale: a commit
    with the whole change is a regression (or improvement) at it, one without is
    unchanged within it."""
    return math.exp(abs(math.log(magnitude)) / 2) - 1


def run_bisection(
    repo: Path,
    commits: Range,
    selection: Selection,
    config: Config,
    limits: Limits,
    out: Path,
    keep: Callable[[list[RunResult]], None],
    progress: Callable[[str], None],
) -> tuple[Bisection, float]:
    """Bisects `commits` in the repository at `repo`; each step's results files go under
    `out`, its runs to `keep`. Returns the bisection and the seconds it took."""
    started = time.monotonic()
    count = 0

    def step(commit: CommitRef, needed: int) -> StepResult:
        nonlocal count
        count += 1
        left = limits.budget_s - (time.monotonic() - started)
        if left <= 0:
            return StepResult("undecided", "the time budget ran out before this step")
        share = left / max(needed, 1)  # what is left, shared by the steps still needed
        progress(
            f"step {count}: {commit.sha[:12]} {commit.subject[:60]} (at most {needed} "
            f"step(s) to go, {share:.0f} s for this one)"
        )
        done = measure(
            repo,
            commits.good.sha,
            commit.sha,
            selection,
            config,
            (limits.max_rounds, share),
            out / f"step-{count:02d}-{commit.sha[:12]}",
            lambda line: progress(f"  {line}"),
        )
        if done.runs:
            keep(done.runs)
        return done.result

    def said(done: Step) -> None:
        verdict = {"bad": "bad", "good": "good", "skip": "skipped", "undecided": "undecided"}
        progress(f"{done.commit.sha[:12]} {verdict[done.result.kind]}: {done.result.reason}")

    progress(
        f"{len(commits.commits)} commit(s) after good {commits.good.sha[:12]} up to bad "
        f"{commits.bad.sha[:12]}"
    )
    found = search(commits, step, said)
    return found, time.monotonic() - started
