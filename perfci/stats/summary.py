"""Summary statistics of one metric's samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Order statistics and moments of a sample; quartiles by linear interpolation
    (Hyndman-Fan type 7, NumPy's default), stddev with Bessel's correction (0 for n=1)."""

    n: int
    median: float
    mean: float
    stddev: float
    min: float
    max: float
    q1: float
    q3: float


def _quantile(ordered: Sequence[float], p: float) -> float:
    h = (len(ordered) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


def summarize(samples: Sequence[float]) -> Summary:
    """Summary of a non-empty sample of finite numbers."""
    if not samples:
        raise ValueError("cannot summarise an empty sample")
    ordered = sorted(samples)
    n = len(ordered)
    mean = math.fsum(ordered) / n
    variance = math.fsum((x - mean) ** 2 for x in ordered) / (n - 1) if n > 1 else 0.0
    return Summary(
        n=n,
        median=_quantile(ordered, 0.5),
        mean=mean,
        stddev=math.sqrt(variance),
        min=ordered[0],
        max=ordered[-1],
        q1=_quantile(ordered, 0.25),
        q3=_quantile(ordered, 0.75),
    )


def summarize_many(samples: Sequence[Sequence[float]]) -> list[Summary]:
    """`summarize` of each sample, vectorised with NumPy over samples of equal length
    (ingest summarises thousands of small samples at once)."""
    import numpy as np

    by_length: dict[int, list[int]] = {}
    for i, sample in enumerate(samples):
        if not sample:
            raise ValueError("cannot summarise an empty sample")
        by_length.setdefault(len(sample), []).append(i)
    out: list[Summary | None] = [None] * len(samples)
    for n, indices in by_length.items():
        ordered = np.sort(np.array([samples[i] for i in indices], dtype=np.float64), axis=1)

        def quantile(p: float, ordered: np.ndarray = ordered, n: int = n) -> np.ndarray:
            h = (n - 1) * p
            lo = math.floor(h)
            hi = min(lo + 1, n - 1)
            values: np.ndarray = ordered[:, lo] + (h - lo) * (ordered[:, hi] - ordered[:, lo])
            return values

        mean = ordered.mean(axis=1)
        stddev = ordered.std(axis=1, ddof=1) if n > 1 else np.zeros(len(indices))
        columns = zip(
            mean.tolist(),
            stddev.tolist(),
            quantile(0.5).tolist(),
            quantile(0.25).tolist(),
            quantile(0.75).tolist(),
            ordered[:, 0].tolist(),
            ordered[:, -1].tolist(),
            strict=True,
        )
        for i, (mu, sd, med, q1, q3, lo_, hi_) in zip(indices, columns, strict=True):
            out[i] = Summary(n, med, mu, sd, lo_, hi_, q1, q3)
    return [s for s in out if s is not None]
