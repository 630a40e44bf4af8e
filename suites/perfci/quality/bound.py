"""The best a step scan can do: an oracle that knows the noise exactly.

White Gaussian noise of known σ, no clipping, no autocorrelation to estimate: after each
new value the oracle scans every split of the series (at least `MIN_BEFORE` values
before and `MIN_AFTER` after, as perfci does) for the standardised difference of the
block means in the regression direction. Its threshold is set so that exactly 1% of
noise-only 200-value replays ever cross it, and its power is then measured on the
evaluation's "+5%, only 5 points after" cell. Also with the tails restricted to a
geometric grid (5, 10, 20, … values), which tests fewer splits and so can afford a lower
threshold. A detector that must estimate σ and the autocorrelation, and resist outliers,
can only do worse than these figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from perfci.stats.changepoint import MIN_AFTER, MIN_BEFORE

N, SHIFT_AT, BUDGET = 200, 195, 0.01
STEP_SIGMAS = float(np.log(1.05) / 0.02)  # +5% at a coefficient of variation of 2%
GRID = (5, 10, 20, 40, 80, 160)


def _tail_max(sums: np.ndarray, end: int, tails: Sequence[int] | None) -> float:
    """The largest statistic over the splits of values[:end] (prefix `sums`)."""
    if tails is None:
        k = np.arange(MIN_BEFORE, end - MIN_AFTER + 1)
    else:
        k = np.array([end - t for t in tails if end - t >= MIN_BEFORE])
    if len(k) == 0:
        return -np.inf
    m = end - k
    diff = (sums[end] - sums[k]) / m - sums[k] / k
    return float((diff / np.sqrt(1 / k + 1 / m)).max())


def _first_end(tails: Sequence[int] | None) -> int:
    return MIN_BEFORE + (MIN_AFTER if tails is None else min(tails))


def _replay_max(y: np.ndarray, tails: Sequence[int] | None, first: int) -> float:
    sums = np.concatenate([[0.0], np.cumsum(y)])
    return max(_tail_max(sums, end, tails) for end in range(first, len(y) + 1))


def oracle(
    tails: Sequence[int] | None, n_null: int, n_power: int, seed: int = 0
) -> tuple[float, float]:
    """(threshold at a 1% false-alert budget, power at +5% with 5 points after)."""
    rng = np.random.default_rng(seed)
    first = _first_end(tails)
    null = [_replay_max(rng.standard_normal(N), tails, first) for _ in range(n_null)]
    threshold = float(np.quantile(null, 1 - BUDGET))
    hits = 0
    for _ in range(n_power):
        y = rng.standard_normal(N)
        y[SHIFT_AT:] += STEP_SIGMAS
        sums = np.concatenate([[0.0], np.cumsum(y)])
        start = max(first, SHIFT_AT + 1)
        hits += any(_tail_max(sums, end, tails) >= threshold for end in range(start, N + 1))
    return threshold, hits / n_power
