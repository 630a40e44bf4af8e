"""Comparing runs, not samples: head/base ratio with run-to-run noise in the interval.

Two halves of one run agree far more than two runs do, so a verdict that only looks at
the samples within runs flags about half of all identical pairs. Here each run is one
observation (the log of its median) and the noise between runs is learned from the
runs themselves when there are enough, from the series' history when there are not.
With neither, it is unknown: the interval shown assumes a noise level (and says so), and
no change is called on it, since identical code can differ between processes by far more
than any fixed guess (a first call of a few microseconds varied 23-fold here).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from perfci.stats.commits import CommitEffect, satterthwaite

NoiseSource = Literal["runs", "history", "assumed"]
Verdict = Literal["regression", "improvement", "unchanged", "inconclusive"]
DEFAULT_RUN_NOISE = 0.20  # run-to-run coefficient of variation shown without evidence;
# only for the interval and the detectable change a report prints, never for a verdict
MIN_DF = 3  # fewer degrees of freedom than this and an estimate of noise is not trusted
_MAD = 1.4826  # median absolute deviation → standard deviation (Gaussian)
_MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2)  # the median's error over the mean's


@dataclass(frozen=True)
class RunsEstimate:
    """head/base ratio of run medians with a two-sided interval at the asked level.

    `noise`: run-to-run standard deviation of log medians (≈ coefficient of variation);
    `noise_source`: where it came from; `df`: its degrees of freedom (None if assumed);
    `detectable`: the smallest change this comparison would find 80% of the time, as a
    fraction; `between`: the part of `noise` that moves whole commits (their runs'
    shared state, `perfci.stats.commits`), 0 when none was found or none could be."""

    ratio: float
    low: float
    high: float
    p_value: float
    noise: float
    noise_source: NoiseSource
    df: int | None
    detectable: float
    between: float = 0.0

    @property
    def noise_known(self) -> bool:
        """Whether runs or history measured the run-to-run noise (a verdict needs it)."""
        return self.noise_source != "assumed"


def t_quantile(z: float, df: int | None) -> float:
    """Student's t quantile matching the normal quantile `z` (Cornish-Fisher expansion,
    three terms: within 1% for df ≥ 3 at the tail levels used here)."""
    if df is None:
        return z
    v = float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )


def _t_p_value(t: float, df: int | None) -> float:
    """Two-sided p-value of Student's t, through Wallace's normal approximation
    z = t·(1 - 1/(4·df))/√(1 + t²/(2·df))."""
    z = abs(t) if df is None else abs(t) * (1 - 1 / (4 * df)) / math.sqrt(1 + t * t / (2 * df))
    return 2 * (1 - NormalDist().cdf(z))


def benjamini_hochberg(p_values: Sequence[float], q: float) -> int:
    """How many hypotheses the Benjamini-Hochberg step-up procedure rejects at level q.
    When nothing changed this bounds the chance of any false flag by q; when many things
    changed it keeps the expected share of false flags among the flagged at most q."""
    ordered = sorted(p_values)
    m = len(ordered)
    rejected = 0
    for i, p in enumerate(ordered, start=1):
        if p <= q * i / m:
            rejected = i
    return rejected


def _log_median(samples: Sequence[float]) -> float:
    return math.log(float(np.median(np.asarray(samples, dtype=np.float64))))


def _within_se(samples: Sequence[float]) -> float:
    """Standard error of one run's log median from its own samples (0 if too few): the
    median's asymptotic error √(π/2)·σ/√n with σ from the median absolute deviation of
    the log samples. Robust: one slow round among five moves it little, where an
    order-statistic interval of a small sample spans its minimum and maximum."""
    n = len(samples)
    if n < 3:
        return 0.0
    logs = np.log(np.asarray(samples, dtype=np.float64))
    mad = float(np.median(np.abs(logs - np.median(logs))))
    return _MEDIAN_EFFICIENCY * _MAD * mad / math.sqrt(n)


def run_noise(history: Sequence[float]) -> tuple[float, int] | None:
    """Run-to-run noise of a series of run medians (oldest first): robust scale of
    successive differences (a step in the history moves one difference, not the
    scale), with its degrees of freedom; None with fewer than MIN_DF + 1 values."""
    values = np.log(np.asarray(history, dtype=np.float64))
    if len(values) < MIN_DF + 1:
        return None
    diffs = np.diff(values)
    scale = _MAD * float(np.median(np.abs(diffs))) / math.sqrt(2)
    return scale, len(values) - 1


def level_shift(
    near: Sequence[Sequence[float]], older: Sequence[Sequence[float]], alpha: float = 0.05
) -> bool:
    """Whether the runs of the base commit (`near`) sit at another level than the runs of
    older commits (`older`): Student's t on the runs' log medians with pooled variance,
    two-sided at `alpha`. A base that averaged both would carry part of a change that
    happened in between into every comparison with it. Assumes independent runs;
    False with fewer than 2 runs a side."""
    if len(near) < 2 or len(older) < 2:
        return False
    a = np.array([_log_median(s) for s in near])
    b = np.array([_log_median(s) for s in older])
    df = len(a) + len(b) - 2
    pooled = float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)) / df
    se = math.sqrt(pooled * (1 / len(a) + 1 / len(b)))
    diff = float(a.mean() - b.mean())
    if se == 0:
        return diff != 0
    return _t_p_value(diff / se, df) < alpha


def compare_runs_samples(
    base: Sequence[Sequence[float]],
    head: Sequence[Sequence[float]],
    confidence: float = 0.95,
    history: Sequence[float] = (),
    assumed_noise: float = DEFAULT_RUN_NOISE,
    effect: CommitEffect | None = None,
    base_commits: Sequence[str] = (),
) -> RunsEstimate:
    """Ratio of the mean log median of the head runs to that of the base runs.

    Method: each run contributes its median (a robust summary of its samples). The
    run-to-run standard deviation σ comes from the pooled spread of run medians within
    base and within head when that has at least MIN_DF degrees of freedom, else from
    `history` (earlier run medians of the series, see `run_noise`), else
    `assumed_noise`; it is never taken below what the runs' own sampling error implies.
    The interval is log-ratio ± t·σ·√(1/k + 1/m) for k base and m head runs, with t
    from σ's degrees of freedom. Assumes runs are independent and the noise is
    log-symmetric; positive samples, at least one run a side.

    When runs of a commit move together (`effect`, estimated from the base's recent
    commits, with τ > 0), the head's runs are one commit and the base's are the commits
    `base_commits` names (one label a base run; none: one commit): the variance is
    σ²(1/k + 1/m) + τ²(Σ w² + 1), with w each base commit's share of the base runs,
    and Welch-Satterthwaite's degrees of freedom, where that is the wider of the two.
    """
    if not base or not head or not all(base) or not all(head):
        raise ValueError("each side needs at least one run with samples")
    b = np.array([_log_median(s) for s in base])
    h = np.array([_log_median(s) for s in head])
    within = math.sqrt(float(np.mean([_within_se(s) ** 2 for s in (*base, *head)])))
    df_runs = len(b) + len(h) - 2
    source: NoiseSource
    df: int | None
    between = 0.0
    if df_runs >= MIN_DF:
        pooled = float(np.sum((b - b.mean()) ** 2) + np.sum((h - h.mean()) ** 2))
        noise, df, source = math.sqrt(pooled / df_runs), df_runs, "runs"
    elif (learned := run_noise(history)) is not None and learned[1] >= MIN_DF:
        (noise, df), source = learned, "history"
    else:
        noise, df, source = assumed_noise, None, "assumed"
    noise = max(noise, within)
    se = noise * math.sqrt(1 / len(b) + 1 / len(h))
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    if effect is not None and effect.between > 0:
        # the wider of the two: the runs' own spread also holds a real change among the
        # base's commits, which the pooled commit effect leaves out
        sigma = max(effect.within, within)
        counts = Counter(base_commits).values() if base_commits else [len(b)]
        share = sum((n / len(b)) ** 2 for n in counts)
        runs_var = sigma**2 * (1 / len(b) + 1 / len(h))
        commits_var = effect.between**2 * (share + 1)
        grouped_se = math.sqrt(runs_var + commits_var)
        grouped_df = satterthwaite([(runs_var, effect.within_df), (commits_var, effect.between_df)])
        if t_quantile(z, grouped_df) * grouped_se > t_quantile(z, df) * se:
            se, df = grouped_se, grouped_df
            noise, between, source = math.hypot(sigma, effect.between), effect.between, "runs"
    q = t_quantile(z, df)
    log_ratio = float(h.mean() - b.mean())
    p = _t_p_value(log_ratio / se, df) if se > 0 else float(log_ratio == 0)
    detectable = math.expm1((q + 0.8416) * se)
    return RunsEstimate(
        math.exp(log_ratio),
        math.exp(log_ratio - q * se),
        math.exp(log_ratio + q * se),
        p,
        noise,
        source,
        df,
        detectable,
        between,
    )


def judge(
    estimate: RunsEstimate, direction: Literal["lower", "higher"], min_effect: float
) -> Verdict:
    """Verdict of an interval: a change is `regression` or `improvement` when the interval
    excludes 1 and the ratio is at least `min_effect` away from 1; `unchanged` when the
    interval lies within ±`min_effect`, or excludes 1 by less than it; else
    `inconclusive` (too noisy to tell at that effect). Always `inconclusive` when the
    run-to-run noise was only assumed."""
    if not estimate.noise_known:
        return "inconclusive"
    up, down = 1 + min_effect, 1 / (1 + min_effect)
    significant = estimate.low > 1 or estimate.high < 1
    large = estimate.ratio >= up or estimate.ratio <= down
    if significant and large:
        slower = estimate.ratio > 1
        return "regression" if slower == (direction == "lower") else "improvement"
    if significant or (down <= estimate.low and estimate.high <= up):
        return "unchanged"
    return "inconclusive"
