"""Pairwise comparison of two samples of one metric: ratio of medians with an interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Verdict = Literal["regression", "improvement", "unchanged", "inconclusive"]


@dataclass(frozen=True)
class RatioEstimate:
    """head/base ratio of medians and its two-sided confidence interval."""

    ratio: float
    low: float
    high: float


def _log_median_se(ordered: Sequence[float], z: float) -> float:
    """Standard error of log(median) from the distribution-free order-statistic interval
    (binomial ranks n/2 ± z·√n/2), converted to a normal-scale width."""
    n = len(ordered)
    half = z * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half) - 1)
    hi = min(n - 1, math.ceil(n / 2 + half))
    return (math.log(ordered[hi]) - math.log(ordered[lo])) / (2 * z)


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio_of_medians(
    base: Sequence[float], head: Sequence[float], confidence: float = 0.95
) -> RatioEstimate | None:
    """Ratio head/base of medians with a confidence interval on the log scale.

    Method: each median's interval from order statistics (no distributional assumption),
    combined as independent normal errors of log-medians. Assumes the samples within a
    run are exchangeable; it knows nothing of run-to-run variation, so a narrow interval
    says only that the two runs differ, not that the code does. Needs at least 3 positive
    samples a side; returns None otherwise.
    """
    if len(base) < 3 or len(head) < 3 or min(base) <= 0 or min(head) <= 0:
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    b, h = sorted(base), sorted(head)
    log_ratio = math.log(_median(h)) - math.log(_median(b))
    se = math.hypot(_log_median_se(b, z), _log_median_se(h, z))
    return RatioEstimate(
        math.exp(log_ratio), math.exp(log_ratio - z * se), math.exp(log_ratio + z * se)
    )


def classify(
    estimate: RatioEstimate, direction: Literal["lower", "higher"], min_effect: float
) -> Verdict:
    """Verdict of an interval against a minimum practical effect (e.g. 0.05 for 5%).

    regression/improvement: the whole interval lies beyond the effect in that direction;
    unchanged: the whole interval lies within it; inconclusive: anything else.
    """
    up, down = 1 + min_effect, 1 / (1 + min_effect)
    worse_if_up = direction == "lower"
    if estimate.low > up:
        return "regression" if worse_if_up else "improvement"
    if estimate.high < down:
        return "improvement" if worse_if_up else "regression"
    if down <= estimate.low and estimate.high <= up:
        return "unchanged"
    return "inconclusive"
