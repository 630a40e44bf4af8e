"""Pull-request mode on simulated runs: A/A false flags and power at +5%, perfci's
comparator against a Mann-Whitney test at α 0.05 on one run per side.

Each benchmark has a run-to-run noise level drawn between 0.3% and 1% (its runs' true
speed moves by that much), a machine-wide effect of 0.3% shared by all benchmarks of a
run, and 20 samples per run with 2% within-run noise. The base is main's 10 most recent
runs; the head is one run.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from evaluate_common import wilson

from perfci.compare import compare_metrics
from perfci.store.queries import MetricRow

BENCHMARKS, BASE_RUNS, SAMPLES = 200, 10, 20


def _runs(rng: np.random.Generator, shift: float) -> tuple[list[list[MetricRow]], list[MetricRow]]:
    noise = rng.uniform(0.003, 0.01, BENCHMARKS)
    runs = []
    for r in range(BASE_RUNS + 1):
        machine = rng.normal(0, 0.003)
        level = np.exp(machine + noise * rng.standard_normal(BENCHMARKS))
        if r == BASE_RUNS:
            level = level * (1 + shift)
        samples = level[:, None] * np.exp(0.02 * rng.standard_normal((BENCHMARKS, SAMPLES)))
        rows = []
        for b in range(BENCHMARKS):
            s = tuple(float(x) for x in samples[b])
            med = float(np.median(s))
            rows.append(
                MetricRow(
                    "suite", f"bench_{b}", {}, "latency", "s", "lower", SAMPLES, med, med, med, s
                )
            )
        runs.append(rows)
    return runs[:BASE_RUNS], runs[BASE_RUNS]


def mann_whitney_p(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Two-sided Mann-Whitney U test, normal approximation (no ties in continuous data)."""
    x = np.concatenate([a, b])
    ranks = np.empty(len(x))
    ranks[np.argsort(x)] = np.arange(1, len(x) + 1)
    n1, n2 = len(a), len(b)
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    z = (u - n1 * n2 / 2) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return 2 * (1 - NormalDist().cdf(abs(z)))


def aa_and_power(comparisons: int) -> dict[str, dict[str, str]]:
    """Rates over `comparisons` simulated comparisons of 200 benchmarks each."""
    tallies = {t: {"flags": 0, "any": 0, "hits": 0} for t in ("perfci", "Mann-Whitney α 0.05")}
    for i in range(comparisons):
        for shift, key in ((0.0, "aa"), (0.05, "power")):
            base, head = _runs(np.random.default_rng([i, int(shift * 100)]), shift)
            verdicts = [c.verdict for c in compare_metrics(base, [head])]
            mw = [
                mann_whitney_p(b.samples, h.samples) < 0.05
                for b, h in zip(base[-1], head, strict=True)
            ]
            flagged = {
                "perfci": [v in ("regression", "improvement") for v in verdicts],
                "Mann-Whitney α 0.05": mw,
            }
            for tool, flags in flagged.items():
                if key == "aa":
                    tallies[tool]["flags"] += sum(flags)
                    tallies[tool]["any"] += any(flags)
                else:
                    hits = (
                        sum(v == "regression" for v in verdicts)
                        if tool == "perfci"
                        else sum(
                            m and h.median > b.median
                            for m, b, h in zip(mw, base[-1], head, strict=True)
                        )
                    )
                    tallies[tool]["hits"] += hits
    n = comparisons * BENCHMARKS
    return {
        tool: {
            "A/A: benchmarks falsely flagged": wilson(t["flags"], n),
            "A/A: comparisons with any false flag": wilson(t["any"], comparisons),
            "power at +5%": wilson(t["hits"], n),
        }
        for tool, t in tallies.items()
    }
