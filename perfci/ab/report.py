"""A same-job A/B comparison as people and programs read it: the base it was judged
against, how it was measured (order, rounds, time), the Markdown comment and the `ab`
section of `perfci ab --format json`. `perfci ab` renders its outcome with these, and
the trusted comment path the outcome it judged again from a kept A/B folder."""

from __future__ import annotations

import dataclasses
from typing import Any

from perfci.ab.session import Outcome
from perfci.compare import Baseline
from perfci.report.comment import CommentExtras, SameJob, comment_markdown


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


def ab_markdown(outcome: Outcome, limit: int | None = None) -> str:
    """The comment: the headline first, then that base and head were measured in this job
    (order, rounds each benchmark took, time spent), the base commit, the verdicts."""
    full = baseline_of(outcome)  # its reason's order and rounds are said by the line above
    base = dataclasses.replace(full, reason=f"commit {outcome.rounds[-1][0].sha[:12]}")
    extras = CommentExtras(same_job=same_job(outcome))
    return comment_markdown(base, outcome.comparisons, extras=extras, limit=limit)


def ab_section(outcome: Outcome) -> dict[str, Any]:
    """The `ab` section of `perfci ab --format json`."""
    return {
        "order": outcome.order,
        "rounds": len(outcome.rounds),
        "stopped": outcome.stopped,
        "elapsed_s": round(outcome.elapsed_s, 3),
        "rounds_per_benchmark": rounds_per_benchmark(outcome),
        # benchmark runs whose rounds base and head took in turn, those one side timed
        # alone, and why turns ended early in a process
        "turns": {
            "in_turn": outcome.in_turn,
            "alone": outcome.alone,
            "lost": list(outcome.turns_lost),
        },
    }
