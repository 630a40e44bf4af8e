"""One step of a bisection: a commit measured against the good end in the same job
(`perfci.ab`: worktrees of both, fresh pytest processes alternating, paired rounds
under the always-valid stopping rule) and judged on the selected metric.

The selected comparisons decide the step: the change sought (a regression, or for an
improvement alert an improvement) on any of them makes the commit bad; all unchanged
makes it good, and so does an inconclusive one that rules the change out. The minimum
effect m splits the change sought in two on the log scale (an alert's change is (1+m)²),
and a step asks which side a commit is on, not whether it is unchanged to the last
percent: an inconclusive interval rules the change out when its ratio lies under the
split and its far end under (1+m)^1.25, five eighths of the change (×1.014 [0.993,
1.044] at m = 3.9% rules out an 8% change). A commit with the whole change reaches
there only through an interval that misses it by three eighths of the change; the share
stays well short of the whole because one commit's processes can sit a few percent off
the code's own effect (a worktree's layout), and a bad commit read at +5% must not be
called good. The interval is the A/B's confidence sequence, valid at whatever round the
step stopped. One that failed or is missing on the commit's side makes it a commit to
skip; anything else (an interval that allows the change, or a change the other way)
leaves it undecided, which stops the search rather than guess.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfci import pytest_args
from perfci.ab.session import DECIDED, ABError, Outcome, Plan, run_ab
from perfci.ab.worktree import Side, SideError, sides
from perfci.bisect.search import StepKind, StepResult
from perfci.compare import DEFAULT_MIN_EFFECT, Comparison
from perfci.config import Config
from perfci.results import RunResult, canonical_params

MIN_ROUND_COUNT = 3  # the paired test decides nothing in fewer rounds (perfci.stats.sequential)
_FAILED = ("missing", "error")
# how much of the change sought, on the log scale in units of the split, an interval must
# rule out for a good commit: 1.25 of 2, five eighths (see the module's docstring)
RULED_OUT_SHARE = 1.25


class SelectionError(ValueError):
    """The selection measures nothing to bisect on; one line for the user."""


@dataclass(frozen=True)
class Selection:
    """What each step measures and judges: the pytest arguments (tests and options, `-k`
    among them), the metric, the change sought, and for an alert its one benchmark
    (`suite::name` and canonical params) among those the arguments run."""

    pytest_args: tuple[str, ...]
    metric: str = "latency"
    kind: str = "regression"
    benchmark: tuple[str, str] | None = None
    min_effect: float | None = None
    profile: str = "quick"

    def judges(self, c: Comparison) -> bool:
        """Whether `c` is one of the comparisons that decide a step."""
        if c.metric != self.metric or not c.gates:
            return False
        return self.benchmark is None or self.benchmark == (c.benchmark, canonical_params(c.params))

    def open_question(self, c: Comparison) -> bool:
        """Whether `c` decides the step and more rounds could still change its answer:
        inconclusive ones whose interval already rules out the change sought need none."""
        return self.judges(c) and not _rules_out(self, c)


def verdict_of(selection: Selection, comparisons: Sequence[Comparison]) -> StepResult:
    """The step's result from the comparisons of its rounds (candidate as head)."""
    judged = [c for c in comparisons if selection.judges(c) and c.verdict != "new"]
    if not judged:
        raise SelectionError(
            f"the selected benchmarks measure no {selection.metric} at the good end "
            "(is --metric right, and do the tests use a benchmark fixture?)"
        )
    failed = [c for c in judged if c.verdict in _FAILED]
    if failed:
        return StepResult("skip", f"{failed[0].benchmark}: {failed[0].note or failed[0].verdict}")
    sought = [c for c in judged if c.verdict == selection.kind]
    if sought:
        return StepResult("bad", _said(sought[0]), sought[0].ratio)
    if all(c.verdict == "unchanged" or _rules_out(selection, c) for c in judged):
        return StepResult("good", _said(judged[0]), judged[0].ratio)
    other = next((c for c in judged if c.verdict != "unchanged"), judged[0])
    if other.verdict in ("regression", "improvement"):
        why = f"changed the other way, not the {selection.kind} sought: {_said(other)}"
        return StepResult("undecided", why, other.ratio)
    return StepResult("undecided", _said(other), other.ratio)


def _rules_out(selection: Selection, c: Comparison) -> bool:
    """Whether inconclusive `c` is on the side of the split without the change sought: for
    a regression of a lower-is-better metric, its ratio under 1 + m and its upper end under
    (1 + m)^1.25 (an improvement, or a higher-is-better metric, the other end and way)."""
    if c.verdict != "inconclusive" or c.ci is None or c.ratio is None:
        return False
    if c.noise in (None, "assumed"):  # an interval on guessed noise rules out nothing
        return False
    effect = selection.min_effect if selection.min_effect is not None else DEFAULT_MIN_EFFECT
    split, far = 1 + effect, (1 + effect) ** RULED_OUT_SHARE
    if (selection.kind == "regression") == (c.direction == "lower"):
        return c.ratio < split and c.ci[1] < far
    return c.ratio > 1 / split and c.ci[0] > 1 / far


def _said(c: Comparison) -> str:
    ratio = "" if c.ratio is None else f" ×{c.ratio:.3f}"
    ci = "" if c.ci is None else f" [{c.ci[0]:.3f}, {c.ci[1]:.3f}]"
    note = f" ({c.note})" if c.note else ""
    return f"{c.benchmark} {c.metric} {c.verdict}{ratio}{ci}{note}"


def _about_good(message: str) -> bool:
    """Whether an A/B error names the base side (the good end), not the candidate."""
    return re.search(r"\bbase\b", message.split(":", 1)[0]) is not None


@dataclass(frozen=True)
class Measured:
    """A step's result and the runs it measured (to be stored, trigger `ab`)."""

    result: StepResult
    runs: list[RunResult]


def measure(
    repo: Path,
    good: str,
    candidate: str,
    selection: Selection,
    config: Config,
    limits: tuple[int, float],
    out: Path,
    progress: Callable[[str], None],
) -> Measured:
    """Measures `candidate` against `good` within `limits` (max rounds, seconds), the
    results files under `out`."""
    started = time.monotonic()
    max_rounds, budget = limits
    plan = Plan(
        selection.pytest_args, selection.profile, 1, max_rounds, budget, selection.min_effect,
        decides=selection.open_question,
    )  # fmt: skip
    outcome: Outcome | None = None
    try:
        with sides(repo, good, candidate, config.ab_setup) as (base, head):
            out.mkdir(parents=True, exist_ok=True)
            outcome = run_ab(base, head, plan, config, out.resolve(), progress)
    except (SideError, ABError) as exc:
        kind: StepKind = "undecided" if _about_good(str(exc)) else "skip"
        return Measured(StepResult(kind, str(exc), elapsed_s=time.monotonic() - started), [])
    found = verdict_of(selection, outcome.comparisons)
    if found.kind == "undecided" and outcome.stopped != DECIDED:
        found = StepResult(
            "undecided", f"{found.reason}; stopped at {outcome.stopped}", found.ratio
        )
    result = StepResult(
        found.kind, found.reason, found.ratio, len(outcome.rounds), time.monotonic() - started
    )
    return Measured(result, [f.result for pair in outcome.rounds for f in pair])


def check_collects(
    repo: Path, good: str, bad: str, selection: Selection, setup: str | None
) -> None:
    """SelectionError unless the selection collects tests at both ends, without error."""
    try:
        with sides(repo, good, bad, setup) as ends:
            for side, end in zip(ends, ("good", "bad"), strict=True):
                _collect(side, end, selection.pytest_args)
    except SideError as exc:
        raise SelectionError(f"cannot set up the good and bad ends: {exc}") from None


def _collect(side: Side, end: str, args: Sequence[str]) -> None:
    try:
        named = pytest_args.targets(args, side.root)
    except ValueError as exc:
        raise SelectionError(f"{exc} at the {end} end {side.sha[:12]}") from None
    if pytest_args.split(args)[1] and not named:
        raise SelectionError(f"none of the tests named is at the {end} end {side.sha[:12]}")
    plugins = []
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        plugins = ["-p", "perfci.plugin", "-p", "pytest_benchmark.plugin"]
    command = [side.python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, *plugins, *args], cwd=side.root, env=side.env, capture_output=True,
        text=True, errors="replace", check=False,
    )  # fmt: skip
    if done.returncode == 5:
        shown = " ".join(args)
        raise SelectionError(f"`{shown}` collects no test at the {end} end {side.sha[:12]}")
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        last = lines[-1].strip()[:200] if lines else "no output"
        raise SelectionError(
            f"the {end} end {side.sha[:12]} fails to collect (pytest exited "
            f"{done.returncode}): {last}"
        )
