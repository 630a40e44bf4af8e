"""The words and figures of a comparison, named once for every report.

The comparator, the console report, the PR comment and the dashboard's pull-request page
all speak of the same things: a metric's direction, the verdicts and the order they are
listed in (worst first), a benchmark's label, the key that tells two measurements of one
benchmark and metric apart (its parameters spelled canonically), and how a ratio, its
change in percent and its interval read.
"""

from __future__ import annotations

from typing import Any, Literal

from perfci.results import DIRECTIONS, Direction, canonical_params

__all__ = [
    "CHANGES",
    "DIRECTIONS",
    "ORDER",
    "Direction",
    "MetricKey",
    "Verdict",
    "benchmark_label",
    "direction_of",
    "interval_text",
    "listing_key",
    "metric_key",
    "percent_text",
    "rank",
    "ratio_text",
]

Verdict = Literal[
    "regression", "improvement", "unchanged", "inconclusive", "new", "missing", "error"
]
# Worst first: what needs a look (a regression, a failure), then what changed for the
# better, what could not be told, what appeared or went, and last what stayed.
ORDER: tuple[Verdict, ...] = (
    "regression",
    "error",
    "improvement",
    "inconclusive",
    "new",
    "missing",
    "unchanged",
)
CHANGES: tuple[Verdict, ...] = ("regression", "improvement")

# suite, name, canonical params, metric
MetricKey = tuple[str, str, str, str]


def rank(verdict: str) -> int:
    """The place of `verdict` in ORDER (a name outside it sorts last)."""
    for i, name in enumerate(ORDER):
        if name == verdict:
            return i
    return len(ORDER)


def listing_key(
    verdict: str, benchmark: str, params: dict[str, Any], metric: str
) -> tuple[int, str, str, str]:
    """Where a comparison is listed: worst verdict first, then by benchmark, parameters
    and metric, the same in every report."""
    return (rank(verdict), benchmark, canonical_params(params), metric)


def direction_of(text: str) -> Direction:
    """A stored direction as its type; ValueError for anything but lower or higher."""
    for direction in DIRECTIONS:
        if direction == text:
            return direction
    raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {text!r}")


def benchmark_label(suite: str, name: str) -> str:
    """How a benchmark is named in reports and matched by perfci.toml: suite::name."""
    return f"{suite}::{name}"


def metric_key(suite: str, name: str, params: dict[str, Any], metric: str) -> MetricKey:
    """One benchmark variant's metric, keyed on its parameters' canonical spelling
    (perfci.results.canonical_params), as the store keys its benchmarks."""
    return (suite, name, canonical_params(params), metric)


def ratio_text(ratio: float | None) -> str:
    """head/base with its change in percent, e.g. '1.250 (+25.0%)'; '' without a ratio."""
    return "" if ratio is None else f"{ratio:.3f} ({percent_text(ratio)})"


def percent_text(ratio: float) -> str:
    """The change a ratio stands for, in percent with its sign: 1.25 reads '+25.0%'."""
    return f"{(ratio - 1) * 100:+.1f}%"


def interval_text(ci: tuple[float, float] | None, words: bool = False) -> str:
    """An interval of ratios, '[0.980, 1.020]', or with `words` '0.980 to 1.020' (where
    brackets would read as markup); '' without one."""
    if ci is None:
        return ""
    low, high = f"{ci[0]:.3f}", f"{ci[1]:.3f}"
    return f"{low} to {high}" if words else f"[{low}, {high}]"
