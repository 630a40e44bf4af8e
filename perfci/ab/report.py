"""A same-job A/B comparison as people and programs read it: the base it was judged
against, how it was measured (order, rounds, time), the Markdown comment and the `ab`
section of `perfci ab --format json`, with the regressions' profile diffs where they
were profiled. `perfci ab` renders its outcome with these, and the trusted comment path
the outcome it judged again from a kept A/B folder."""

from __future__ import annotations

import dataclasses
from typing import Any

from perfci.ab.diff_file import FAILED, TIME
from perfci.ab.explained import Explained, regressions
from perfci.ab.session import Outcome
from perfci.compare import Baseline, Comparison
from perfci.explain.render import explain_markdown, explanation_json
from perfci.report.comment import CommentExtras, SameJob, Why, comment_markdown, duration_text
from perfci.report.markdown import code

WHY_LIMIT = 5  # top changes per profiler in a why section


def baseline_of(outcome: Outcome) -> Baseline:
    """The base said as it was measured: which commit, how many rounds, in what order."""
    base = outcome.rounds[-1][0]
    how = "round by round in turn" if outcome.in_turn else "process by process"
    reason = (
        f"commit {base.sha[:12]} measured in this job, interleaved with the head {how} "
        f"({len(outcome.rounds)} round(s), order {outcome.order}; stopped at {outcome.stopped})"
    )
    return Baseline(base, reason, tuple(b for b, _ in reversed(outcome.rounds)))


def rounds_per_benchmark(outcome: Outcome) -> dict[str, int]:
    """How many rounds measured each benchmark on both sides."""
    return {c.benchmark: outcome.rounds_of(c) for c in outcome.comparisons}


def same_job(outcome: Outcome) -> SameJob:
    counts = tuple(rounds_per_benchmark(outcome).values())
    return SameJob(outcome.order, counts, outcome.elapsed_s, outcome.stopped)


def ab_markdown(
    outcome: Outcome, limit: int | None = None, explained: Explained | None = None
) -> str:
    """The comment: the headline first, then that base and head were measured in this job
    (order, rounds each benchmark took, time spent), the base commit, the verdicts, and
    a collapsed "why" section per regression that was profiled."""
    full = baseline_of(outcome)  # its reason's order and rounds are said by the line above
    base = dataclasses.replace(full, reason=f"commit {outcome.rounds[-1][0].sha[:12]}")
    extras = CommentExtras(same_job=same_job(outcome))
    if explained is not None:
        whys = why_sections(outcome.comparisons, explained)
        extras = dataclasses.replace(extras, whys=whys, why_line=explain_line(explained))
    return comment_markdown(base, outcome.comparisons, extras=extras, limit=limit)


def why_sections(comparisons: list[Comparison], explained: Explained) -> tuple[Why, ...]:
    """One why section per regressed benchmark variant with a diff, worst first (a
    variant whose several metrics regressed has one)."""
    seen: dict[str, Why] = {}
    for c in regressions(comparisons):
        e = explained.of(c)
        if e is None or e.nodeid in seen:
            continue
        label = code(f"{e.suite}::{e.name}", in_table=False)
        short = (
            f"- Why {label} changed: left out for the comment's length (the full diff is in "
            "the results folder)"
        )
        seen[e.nodeid] = Why(explain_markdown(e, WHY_LIMIT), short)
    return tuple(seen.values())


def explain_line(explained: Explained, markdown: bool = True) -> str:
    """What profiling the regressions took, against its budget, and what it left
    unexplained and why: Markdown (node ids as code spans), or plain text."""
    entry = explained.entry

    def name(nodeid: str) -> str:
        return code(nodeid, in_table=False) if markdown else nodeid

    line = (
        f"Why they regressed: {len(entry.tests)} benchmark test(s) profiled on base and head "
        f"in {duration_text(entry.elapsed_s)} of a {duration_text(entry.budget_s)} profiling "
        "budget; profiling explains a verdict, it never changes one."
    )
    for reason, said in ((TIME, "left unexplained for lack of time"), (FAILED, "profiling failed")):
        nodes = [u.nodeid for u in entry.unexplained if u.reason == reason]
        if nodes:
            line += f" {said.capitalize()}: {', '.join(map(name, nodes))}."
    return line


def explain_section(explained: Explained | None) -> dict[str, Any] | None:
    """The `ab.explain` section of `perfci ab --format json`: the budget, the time used,
    the tests profiled and those left unexplained (with the reason)."""
    if explained is None:
        return None
    doc = explained.entry.to_doc()
    return {
        "budget_s": doc["budget_s"],
        "elapsed_s": doc["elapsed_s"],
        "calls": doc["calls"],
        "profiled": [t["nodeid"] for t in doc["tests"]],
        "unexplained": doc["unexplained"],
    }


def comparison_explanation(c: Comparison, explained: Explained | None) -> dict[str, Any] | None:
    """A regression's full diff (`explanation_json`), None for any other verdict or a
    regression that was not profiled."""
    if explained is None or c.verdict != "regression":
        return None
    e = explained.of(c)
    return None if e is None else explanation_json(e)


def ab_section(outcome: Outcome, explained: Explained | None = None) -> dict[str, Any]:
    """The `ab` section of `perfci ab --format json`."""
    return {
        "order": outcome.order,
        "rounds": len(outcome.rounds),
        "stopped": outcome.stopped,
        "elapsed_s": round(outcome.elapsed_s, 3),
        "rounds_per_benchmark": rounds_per_benchmark(outcome),
        # benchmark runs whose rounds base and head took in turn, those one side timed
        # alone, and why turns ended early in a process
        "affinity": None if outcome.affinity is None else sorted(outcome.affinity),
        "turns": {
            "in_turn": outcome.in_turn,
            "alone": outcome.alone,
            "lost": list(outcome.turns_lost),
        },
        "explain": explain_section(explained),
    }
