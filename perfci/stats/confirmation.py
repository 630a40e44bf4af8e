"""The paired test of a confirmation: do the rounds measured again support the suspected
change, in its direction?

A confirmation measures two commits again in one job, interleaved: the last commit
before a suspected change (A) and the newest commit (B), one run of each a round. Each
round gives one log ratio d = log(B / A) of the two runs' figures. What both runs of a
round share (the machine's state, a drift, an autocorrelated noise's current level)
cancels in d, which the history's values measured long before cannot offer.

Method: a one-sided Student t-test of the mean of d, H0: mean ≤ 0 against a rise (or
mean ≥ 0 against a fall), at level `LEVEL`, with the exact t distribution of n - 1
degrees of freedom (A&S 26.7.3-4; integer degrees of freedom have a closed form). The
number of rounds is fixed before they are measured (a confirmation never stops early),
so a fixed-sample test keeps its level; the always-valid sequential test of
`perfci.stats.sequential` pays for looks a confirmation never takes (at 5 rounds it
finds +5% at a round spread of 2.8% a third as often). The interval reported is the
two-sided t interval at 1 - 2·LEVEL, so the rounds support the change exactly when it
lies wholly on the suspected side of 1.

Why this bounds false alerts: the rounds are measured after the suspicion was raised,
so whatever in the history raised it does not enter d. When nothing changed, each
confirmation supports its suspicion with probability at most `LEVEL`, however the
suspicion was chosen, and a series with s confirmations gains at most s·LEVEL false
alerts from them (the suspicion is a screen; this test is the decision). The
evaluation (suites/perfci/quality/confirm.py, QUALITY.md) measures s.

Assumptions: the rounds' log ratios are independent and symmetric about their mean
(true of two interleaved runs of one commit pair whatever the shape of the runs' own
noise, since a difference of two like values is symmetric); slow drift shared by both
runs cancels, and the ABBA order cancels its linear part across rounds. Heavy tails
make the t-test conservative. Fewer than 2 rounds, or rounds all equal at 0, support
nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.01  # one-sided: the chance that rounds of an unchanged pair support a suspicion
MIN_ROUNDS = 2  # a spread needs two rounds


@dataclass(frozen=True)
class PairedEvidence:
    """What the confirmation's rounds say. `rounds`: how many; `ratio`: exp of the mean
    log ratio (newest over the commit before); `low`, `high`: its two-sided interval at
    1 - 2·`level` (0 and inf with fewer than 2 rounds); `p_value`: one-sided, in the
    suspected direction; `supports`: p_value ≤ `level`."""

    rounds: int
    ratio: float
    low: float
    high: float
    p_value: float
    level: float
    supports: bool


def t_upper_tail(t: float, df: int) -> float:
    """P(T > t) for Student's t with `df` ≥ 1 degrees of freedom (exact closed form for
    integer degrees of freedom, Abramowitz & Stegun 26.7.3 and 26.7.4)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    theta = math.atan(abs(t) / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2:  # odd: (2/π)(θ + sinθ·(cosθ + 2/3·cos³θ + …)), the series empty for df 1
        term, total = c, 0.0
        for j in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * j) / (2 * j + 1)
        inside = 2 / math.pi * (theta + s * total)
    else:  # even: sinθ·(1 + 1/2·cos²θ + 1·3/(2·4)·cos⁴θ + …)
        term, total = 1.0, 0.0
        for j in range(1, df // 2 + 1):
            total += term
            term *= c * c * (2 * j - 1) / (2 * j)
        inside = s * total
    tail = max(0.0, (1 - inside) / 2)  # P(T > |t|)
    return tail if t >= 0 else 1 - tail


def t_quantile(p: float, df: int) -> float:
    """The t with P(T > t) = `p` (0 < p < 1), by bisection on `t_upper_tail`."""
    if not 0 < p < 1:
        raise ValueError("p must be between 0 and 1")
    if p > 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_upper_tail(high, df) > p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_upper_tail(middle, df) > p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2


def paired_test(log_ratios: Sequence[float], rise: bool, level: float = LEVEL) -> PairedEvidence:
    """The one-sided paired t-test of the rounds' log ratios log(newest / before), oldest
    first, for a suspected rise (`rise`) or fall of the values (module docstring: method
    and assumptions)."""
    if not 0 < level < 0.5:
        raise ValueError("level must be between 0 and 0.5")
    d = [float(x) for x in log_ratios]
    if not all(math.isfinite(x) for x in d):
        raise ValueError("log ratios must be finite")
    n = len(d)
    if n == 0:
        return PairedEvidence(0, 1.0, 0.0, math.inf, 1.0, level, False)
    mean = math.fsum(d) / n
    if n < MIN_ROUNDS:
        return PairedEvidence(n, math.exp(mean), 0.0, math.inf, 1.0, level, False)
    spread = math.sqrt(math.fsum((x - mean) ** 2 for x in d) / (n - 1))
    se = spread / math.sqrt(n)
    sign = 1.0 if rise else -1.0
    if se == 0:  # every round alike: certain when they moved the suspected way, else not
        p = 0.0 if sign * mean > 0 else 1.0
        return PairedEvidence(
            n, math.exp(mean), math.exp(mean), math.exp(mean), p, level, p <= level
        )
    p = t_upper_tail(sign * mean / se, n - 1)
    half = t_quantile(level, n - 1) * se
    return PairedEvidence(
        n, math.exp(mean), math.exp(mean - half), math.exp(mean + half), p, level, p <= level
    )
