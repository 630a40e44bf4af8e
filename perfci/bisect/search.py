"""Binary search for the first bad commit of a range, given a step that judges one commit.

The range's commits are c_1 … c_n (c_n the bad end, c_0 the good end before them). The
search keeps the last commit known good and the first known bad and measures the commit
nearest the middle between them: `bad` moves the bad end there, `good` the good end.
A commit that cannot be measured (`skip`: it fails to set up, to collect or to run the
benchmarks) is set aside and its nearest untried neighbour measured instead, as
`git bisect skip` does; when only skipped commits lie between the ends, the answer is
the set of them and the bad end. An `undecided` step stops the search with the range
narrowed so far: a guess would send every later step the wrong way. Without skips it
takes at most ⌈log2 n⌉ steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from perfci.bisect.history import CommitRef, Range

StepKind = Literal["bad", "good", "skip", "undecided"]


@dataclass(frozen=True)
class StepResult:
    """What one step found about a commit, and a line saying why."""

    kind: StepKind
    reason: str
    ratio: float | None = None  # candidate / good on the judged metric
    rounds: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Step:
    commit: CommitRef
    result: StepResult


@dataclass
class Bisection:
    """The outcome: `first_bad` when found; otherwise the narrowed range `good`..`bad`
    and `reason`, why the search stopped."""

    range: Range
    good: CommitRef
    bad: CommitRef
    tried: list[Step] = field(default_factory=list)
    first_bad: CommitRef | None = None
    reason: str = ""

    @property
    def measured(self) -> list[Step]:
        """The steps that measured a commit (not the skipped ones)."""
        return [s for s in self.tried if s.result.kind != "skip"]

    @property
    def skipped(self) -> list[Step]:
        return [s for s in self.tried if s.result.kind == "skip"]


def steps_needed(n: int) -> int:
    """Steps a search over `n` commits (the bad end among them) takes at most: ⌈log2 n⌉."""
    return math.ceil(math.log2(n)) if n > 1 else 0


StepFunction = Callable[[CommitRef, int], StepResult]  # the commit, steps still needed


def search(commits: Range, step: StepFunction, on_step: Callable[[Step], None]) -> Bisection:
    """Bisects `commits` with `step`, calling `on_step` after each step."""
    chain = commits.commits
    low, high = -1, len(chain) - 1  # last known good (-1: the good end), first known bad
    out = Bisection(commits, commits.good, commits.bad)
    skipped: set[int] = set()
    while high - low > 1:
        untried = [i for i in range(low + 1, high) if i not in skipped]
        if not untried:
            names = ", ".join(chain[i].sha[:12] for i in sorted(skipped) if low < i < high)
            out.reason = (
                f"only commits that could not be measured lie between the ends: the first bad "
                f"commit is one of {names} or {chain[high].sha[:12]}"
            )
            break
        middle = (low + high) // 2
        index = min(untried, key=lambda i: (abs(i - middle), i))
        done = Step(chain[index], step(chain[index], steps_needed(high - low)))
        out.tried.append(done)
        on_step(done)
        if done.result.kind == "bad":
            high = index
        elif done.result.kind == "good":
            low = index
        elif done.result.kind == "skip":
            skipped.add(index)
        else:
            out.reason = f"{done.commit.sha[:12]} undecided: {done.result.reason}"
            break
        out.good = commits.good if low < 0 else chain[low]
        out.bad = chain[high]
    else:
        out.first_bad = chain[high]
    return out
