"""An always-valid test and confidence sequence for paired rounds of an A/B comparison.

A round is one base run and one head run measured next to each other; its figure is the
log ratio d = log(head / base) of their medians. The question is the mean μ of d, with
the round-to-round spread σ unknown, and it is asked again after every round: the
comparison looks, decides what it can, and measures again what it cannot. A fixed-sample
t-test looked at after every round flags far more often than its level says; the test
here keeps its level under any such optional stopping or continuation.

Method: the scale-invariant normal-mixture e-process (Lai 1976; Wang & Ramdas 2023,
"Anytime-valid t-tests and confidence sequences for Gaussian means with unknown
variance"). For H0: mean = μ, with x_i = d_i - μ, V = Σx_i², T = Σx_i over n rounds,

    E_n(μ) = sqrt(c / (n + c)) · (V / (V - T² / (n + c)))^(n/2),

the Bayes factor of the scale-invariant part of the data (right-Haar prior on σ) for a
standardised effect (μ' - μ)/σ ~ N(0, 1/c) against none. Under H0 it is a nonnegative
martingale, so by Ville's inequality P(E_n(μ) ≥ 1/α for some n) ≤ α. The anytime
p-value of "no change" is p_n = min(1, 1 / max_{k ≤ n} E_k(0)); it only falls, and
P(p_n ≤ α for some n) ≤ α. The confidence sequence is {μ : E_k(μ) < 1/α}, which in closed
form is mean ± h with, for S = Σ(d_i - mean)² and K = ((1/α)·sqrt((n + c)/c))^(2/n),

    h = sqrt((K - 1) · S / (n · (1 - K·c/(n + c))))   when 1 - K·c/(n + c) > 0,

and unbounded otherwise (too few rounds for the level: at c = 0.1 and α = 0.05, the
first 2 rounds; 3 rounds and up at α = 0.05, 4 and up at α = 0.005). The interval
reported is the running intersection over k ≤ n, which covers μ at every n at once
exactly when each does, and excludes 0 exactly when p_n ≤ α.

Derivation of h: with δ = mean - μ, V = S + nδ² and V - T²/(n + c) = S + nδ²·c/(n + c),
so E_n(μ) ≥ 1/α ⟺ V/(V - T²/(n + c)) ≥ K ⟺ nδ²·(1 - K·c/(n + c)) ≥ (K - 1)·S.

The mixture precision c (`MIXTURE_PRECISION` = 0.1: effects of about 1/sqrt(c) ≈ 3 round
spreads weighed most) was chosen over a grid (0.01 to 3) on Gaussian rounds with
spread 1%, 2% and 5% and effects of 3%, 5% and 10% at α 0.05 and 0.005, for the median
number of rounds to a change or an "unchanged" call within 20 rounds:
suites/perfci/quality/ab_stats.py prints the grid. Smaller c rejects a large effect
sooner (up to 3 rounds), larger c narrows the interval at many rounds; 0.1 was within one
round of the best in every cell.

Assumptions: rounds independent, d Gaussian around μ with one σ. Measured
(suites/perfci/quality/ab_stats.md): the level holds for Gaussian rounds, for
heavy-tailed ones (Student t with 3 degrees of freedom), for bimodal run levels and for
slow drift of the machine shared by both runs of a round (AR(1) run levels under the
ABBA order); it does not hold where the rounds' log ratios are themselves correlated,
nor where d is skewed or nearly two-valued (±J with little spread): three equal rounds
in a row then read as certainty.

Robust to a slow process: one run of a round can land in a slow state for its whole
life (measured on a 2-core VM: rounds of +15% and +51% among 120 of a pure-Python loop
otherwise within ±7%), and one such round dominates the spread S, so the interval stays
wide for the rest of the comparison. From `WINSOR_FROM` rounds on, each look first
winsorises its rounds at their median ± `WINSOR_K` robust standard deviations, the scale
read from the 10th to the 90th percentile (a breakdown of 10%: the spread of a process
one in two slowed, which is real, is kept, and only rare extremes are pulled in). The
look's p-value and interval are those of the winsorised rounds. That is outside the
theorem (the clip points depend on the data), so its level is measured instead, with a
look after every round (suites/perfci/quality/ab_stats.md, the same families as above
and a slow process one round in twenty): within 0.2 points of the plain test in every
family whose level the plain test keeps, and about 2 points above it in those it
already exceeds (two-valued and skewed rounds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIXTURE_PRECISION = 0.1  # c: prior precision of the standardised effect (see above)
WINSOR_FROM = 6  # rounds before a look winsorises: fewer cannot tell an extreme from the spread
WINSOR_K = 4.0  # clip points, in robust standard deviations from the median
DECILE_SPAN = 2.5631  # the standard normal's 90th minus its 10th percentile
POWER_Z = 0.8416  # standard normal quantile of 0.8: `detectable` is found 80% of the time


@dataclass(frozen=True)
class SequentialEstimate:
    """The paired rounds' verdict figures at level 1 - α, valid at every look.

    `n`: rounds; `ratio`: exp of the mean log ratio (head/base); `low`, `high`: the
    ratio's confidence sequence (0 and inf while unbounded); `p_value`: the anytime
    p-value of no change; `noise`: the rounds' standard deviation of the log ratio
    (≈ the coefficient of variation of a round's ratio; None for one round);
    `detectable`: the smallest change, as a fraction, that these rounds would find 80%
    of the time at this n (inf while the interval is unbounded)."""

    n: int
    ratio: float
    low: float
    high: float
    p_value: float
    noise: float | None
    detectable: float

    @property
    def bounded(self) -> bool:
        """Whether the confidence sequence is a finite interval yet."""
        return self.low > 0 and math.isfinite(self.high)


def _array(log_ratios: Sequence[float] | np.ndarray) -> np.ndarray:
    d = np.asarray(log_ratios, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError("log ratios must be a non-empty sequence of numbers")
    if not np.all(np.isfinite(d)):
        raise ValueError("log ratios must be finite")
    return d


def winsorised(log_ratios: Sequence[float] | np.ndarray) -> np.ndarray:
    """The rounds as a look judges them: from `WINSOR_FROM` rounds on, each clipped to the
    median ± `WINSOR_K` robust standard deviations ((90th - 10th percentile) / 2.5631)."""
    d = _array(log_ratios)
    if d.size < WINSOR_FROM:
        return d
    q10, median, q90 = np.quantile(d, (0.1, 0.5, 0.9))
    reach = WINSOR_K * (q90 - q10) / DECILE_SPAN
    return np.clip(d, median - reach, median + reach) if reach > 0 else d


def log_e_process(
    log_ratios: Sequence[float] | np.ndarray, mu: float = 0.0, c: float = MIXTURE_PRECISION
) -> np.ndarray:
    """log E_k(μ) for k = 1..n, the e-process of H0: mean = `mu` after each round. Where
    every x_i = d_i - μ is 0 (no direction to weigh) it is 0, as after the first round."""
    x = _array(log_ratios) - mu
    n = np.arange(1, x.size + 1, dtype=np.float64)
    mean = np.cumsum(x) / n
    spread = np.maximum(np.cumsum(x * x) - n * mean * mean, 0.0)  # S_k
    v = spread + n * mean * mean
    w = spread + n * mean * mean * c / (n + c)
    out = np.zeros_like(n)
    some = v > 0
    out[some] = 0.5 * np.log(c / (n[some] + c)) + n[some] / 2 * (np.log(v[some]) - np.log(w[some]))
    out[0] = 0.0  # E_1 = 1 exactly: one round's sign is all the scale-free data holds
    return out


def anytime_p_value(
    log_ratios: Sequence[float] | np.ndarray, c: float = MIXTURE_PRECISION
) -> float:
    """p_n = min(1, 1 / max_{k ≤ n} E_k(0)) of the winsorised rounds: valid however many
    times it is looked at for the plain rounds, and measured so for the winsorised."""
    return min(1.0, math.exp(-float(np.max(log_e_process(winsorised(log_ratios), 0.0, c)))))


def half_width(n: int, spread: float, alpha: float, c: float = MIXTURE_PRECISION) -> float:
    """Half-width h of the confidence sequence after `n` rounds whose log ratios have
    sum of squared deviations `spread` (S), at level 1 - `alpha`: inf while unbounded."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    log_k = 2 / n * (math.log(1 / alpha) + 0.5 * math.log((n + c) / c))
    room = 1 - math.exp(log_k) * c / (n + c)
    if room <= 0:
        return math.inf
    return math.sqrt(math.expm1(log_k) * spread / (n * room))


def sequential_test(
    log_ratios: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    c: float = MIXTURE_PRECISION,
) -> SequentialEstimate:
    """The always-valid test and confidence sequence of the mean of the rounds' log
    ratios (in order, oldest first) at level 1 - `alpha` (module docstring: method and
    assumptions). The interval is the running intersection of each look's; should the
    looks disagree (no μ in all of them, which under the model happens with probability
    below α), it is the latest look's. Every figure is of the rounds winsorised (above)."""
    raw = _array(log_ratios)
    d = winsorised(raw)
    x = d - d[0]  # sums of squares about the first value: no cancellation at tiny spreads
    k = np.arange(1, d.size + 1, dtype=np.float64)
    shift = np.cumsum(x) / k
    spreads = np.maximum(np.cumsum(x * x) - k * shift * shift, 0.0)
    means = d[0] + shift
    low, high = -math.inf, math.inf
    width = math.inf
    for n, mean, spread in zip(range(1, d.size + 1), means.tolist(), spreads.tolist(), strict=True):
        width = half_width(n, spread, alpha, c)
        now_low, now_high = mean - width, mean + width
        if max(low, now_low) <= min(high, now_high):
            low, high = max(low, now_low), min(high, now_high)
        else:
            low, high = now_low, now_high
    n = d.size
    noise = math.sqrt(spreads[-1] / (n - 1)) if n >= 2 else None
    detectable = math.inf
    if noise is not None and math.isfinite(width):
        detectable = math.expm1(width + POWER_Z * noise / math.sqrt(n))
    return SequentialEstimate(
        n=n,
        ratio=math.exp(means[-1]),
        low=math.exp(low),
        high=math.exp(high),
        p_value=anytime_p_value(raw, c),
        noise=noise,
        detectable=detectable,
    )
