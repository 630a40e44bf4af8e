"""How far commits move beyond their runs: the share of run-to-run noise that a commit's
runs have in common.

Runs of one commit are measured together (three back to back in one job), so they share
the machine's state of that moment: its thermal and frequency state, what else ran, how
the process landed. Their spread about their own mean then understates how far two
commits' means wander when nothing changed. Seen on a real suite: three runs a commit
agreed within 1.8% (their mean's error) while the means of unchanged commits moved by 3.9%,
so a comparison of one commit's three runs with another's called a 7.9% move of unchanged
code a regression.

The model is one-way random effects on the log run medians: run j of commit g is
μ + c_g + e_gj, with commit effects c_g of variance τ² and run noise e_gj of variance σ².
The difference of two commits' means of k and m runs then has variance
σ²(1/k + 1/m) + 2τ², not σ²(1/k + 1/m). σ² and τ² are estimated by the method of moments
from the base's recent commits, robustly, so that one real change among them does not
pass for commit noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

K = TypeVar("K")
_MAD = 1.4826  # median absolute deviation → standard deviation (Gaussian)


@dataclass(frozen=True)
class CommitEffect:
    """Run medians grouped by commit, split into noise within a commit's runs (`within`,
    σ, with `within_df`) and the commits' own movement beyond it (`between`, τ, with
    `between_df` = commits - 1); both as standard deviations of log medians. `raw`: the
    moment estimate of τ² before it is floored at 0, for pooling over metrics."""

    within: float
    within_df: int
    between: float
    between_df: int
    raw: float = 0.0


def commit_effect(
    commits: Sequence[Sequence[float]], extra: Sequence[Sequence[float]] = ()
) -> CommitEffect | None:
    """σ and τ from `commits` (each commit's log run medians, in history order, two
    commits at least), with the runs of `extra` commits (the head's) adding only to σ,
    since their level is what is being tested. σ² is the pooled variance of runs about
    their commit's mean. τ comes from the differences between successive commits'
    means, each of variance 2τ² + σ²(1/nₐ + 1/n_b), through their robust scale
    (1.4826 × the median absolute difference), as `perfci.stats.runs.run_noise` does
    for runs: a real change among the commits moves one difference, not the scale.
    None when either cannot be estimated: fewer than two commits, or no commit with
    two runs (one run a commit cannot tell σ from τ, and its spread already holds both)."""
    groups = [np.asarray(g, dtype=np.float64) for g in commits if len(g)]
    every = [*groups, *(np.asarray(g, dtype=np.float64) for g in extra if len(g))]
    within_df = sum(len(g) - 1 for g in every)
    if len(groups) < 2 or within_df < 1:
        return None
    sigma2 = sum(float(np.sum((g - g.mean()) ** 2)) for g in every) / within_df
    means = np.array([g.mean() for g in groups])
    inverse = np.array([1 / len(g) for g in groups])
    scale = _MAD * float(np.median(np.abs(np.diff(means))))
    raw = (scale**2 - sigma2 * float(np.mean(inverse[1:] + inverse[:-1]))) / 2
    tau = float(np.sqrt(max(0.0, raw)))
    return CommitEffect(float(np.sqrt(sigma2)), within_df, tau, len(groups) - 1, raw)


def shared_effects(effects: Mapping[K, CommitEffect]) -> dict[K, CommitEffect]:
    """Each metric's commit effect with τ pooled over the metrics given (one unit's,
    say: timings). A commit's runs share the machine's state, and that state moves every
    metric of theirs alike, so one τ stands for all: the median of their unfloored
    estimates (one metric's own change among the base commits, or one very noisy
    metric, moves it little), with the degrees of freedom of all of them. One metric's
    own estimate has as many degrees of freedom as differences between its commits
    (two or three): often 0 by chance, and its interval's t quantile absurd."""
    if not effects:
        return {}
    pooled = float(np.sqrt(max(0.0, float(np.median([e.raw for e in effects.values()])))))
    pooled_df = max(e.between_df for e in effects.values())
    return {k: replace(e, between=pooled, between_df=pooled_df) for k, e in effects.items()}


def satterthwaite(parts: Sequence[tuple[float, int]]) -> int:
    """Welch-Satterthwaite degrees of freedom of a sum of variance estimates, each given
    as (variance, its degrees of freedom); at least 1, rounded down so the t quantile
    leans wide."""
    total = sum(v for v, _ in parts)
    denominator = sum(v * v / df for v, df in parts if v > 0)
    if total <= 0 or denominator <= 0:
        return max(1, min(df for _, df in parts))
    return max(1, int(total * total / denominator))
