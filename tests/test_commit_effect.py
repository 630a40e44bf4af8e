"""Runs of one commit that move together: the commit effect joins the noise.

Three runs a commit measured back to back share the machine's state, so they agree with
each other better than two commits' means do when nothing changed. Simulated here with
a commit effect (τ) shared by every metric of the commit's runs and run noise (σ)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfci.compare import compare_metrics
from perfci.stats.commits import commit_effect, satterthwaite, shared_effects
from perfci.store.queries import MetricRow

METRICS, RUNS, SAMPLES = 10, 3, 15


def _commit(rng: np.random.Generator, tau: float, sigma: float, shift: float = 0.0) -> list:
    """One commit's runs of METRICS benchmarks: a level shared by the commit, runs about it."""
    shared = rng.normal(0, tau)
    runs = []
    for _ in range(RUNS):
        rows = []
        for b in range(METRICS):
            level = math.exp(shared + rng.normal(0, sigma) + (shift if b == 0 else 0.0))
            s = tuple(float(x) for x in level * np.exp(0.01 * rng.standard_normal(SAMPLES)))
            med = float(np.median(s))
            rows.append(
                MetricRow("suite", f"b{b}", {}, "latency", "s", "lower", SAMPLES, med, med, med, s)
            )
        runs.append(rows)
    return runs


def _history(rng: np.random.Generator, tau: float, sigma: float, shift: float = 0.0):
    """Four base commits of three runs (nearest first, as a baseline lists them) and a
    head commit of three, with their commits' labels."""
    base, labels = [], []
    for c in range(4):
        for run in _commit(rng, tau, sigma):
            base.append(run)
            labels.append(f"c{c}")
    return base, labels, _commit(rng, tau, sigma, shift)


def test_the_estimates_find_sigma_and_tau() -> None:
    rng = np.random.default_rng(1)
    commits = [list(rng.normal(rng.normal(0, 0.03), 0.01, 3)) for _ in range(400)]
    effect = commit_effect(commits)
    assert effect is not None
    assert effect.within == pytest.approx(0.01, rel=0.1)
    assert effect.between == pytest.approx(0.03, rel=0.15)
    assert effect.between_df == 399


def test_one_real_change_among_the_commits_is_not_commit_noise() -> None:
    rng = np.random.default_rng(2)
    levels = [0.0, 0.0, 0.0, 0.3, 0.3, 0.3]  # a +35% step between the third and fourth
    commits = [list(rng.normal(level, 0.01, 3)) for level in levels]
    effect = commit_effect(commits)
    assert effect is not None and effect.between < 0.02, effect


@pytest.mark.parametrize(
    "commits", [[[0.1, 0.2, 0.15]], [[0.1], [0.2], [0.3]], []], ids=["one", "single-runs", "none"]
)
def test_no_estimate_without_two_commits_and_a_repeated_run(commits: list) -> None:
    assert commit_effect(commits) is None


def test_tau_is_pooled_over_the_metrics() -> None:
    rng = np.random.default_rng(3)
    effects = {}
    for k in range(12):
        commits = [list(rng.normal(rng.normal(0, 0.03), 0.01, 3)) for _ in range(4)]
        effect = commit_effect(commits)
        assert effect is not None
        effects[k] = effect
    own = sorted(e.between for e in effects.values())
    pooled = shared_effects(effects)
    values = {e.between for e in pooled.values()}
    assert len(values) == 1 and own[0] < values.pop() < own[-1]
    assert {e.between_df for e in pooled.values()} == {3}


def test_satterthwaite_lies_between_the_parts() -> None:
    assert satterthwaite([(1.0, 4), (1.0, 4)]) == 8
    assert 3 <= satterthwaite([(1.0, 3), (0.01, 100)]) <= 4


def _false_flag_rate(base_commits: bool, comparisons: int = 300) -> float:
    rng = np.random.default_rng(4)
    flagged = 0
    for _ in range(comparisons):
        base, labels, head = _history(rng, tau=0.03, sigma=0.01)
        verdicts = compare_metrics(base, head, base_commits=labels if base_commits else None)
        flagged += any(c.verdict in ("regression", "improvement") for c in verdicts)
    return flagged / comparisons


def test_unchanged_commits_are_not_flagged_when_their_runs_move_together() -> None:
    """A/A with τ 3% and σ 1%: treating every run as independent flags several times
    the family's 5% of comparisons; with the commits named, at most about 5% (a margin
    for 300 trials)."""
    naive = _false_flag_rate(base_commits=False)
    grouped = _false_flag_rate(base_commits=True)
    assert naive > 0.2, naive
    assert grouped <= 0.08, (grouped, naive)


def test_a_large_change_is_still_found() -> None:
    """+30% with τ 1.5% (what a real suite's commits showed here) and σ 1%: found in
    most comparisons, though τ known from four commits' three differences is uncertain."""
    rng = np.random.default_rng(5)
    found = grouped = 0
    for _ in range(100):
        base, labels, head = _history(rng, tau=0.015, sigma=0.01, shift=math.log(1.3))
        verdicts = compare_metrics(base, head, base_commits=labels)
        slowed = next(c for c in verdicts if c.benchmark.endswith("b0"))
        found += slowed.verdict == "regression"
        grouped += "moves a commit's runs together" in str(slowed.note)
    assert found >= 85, found
    assert grouped > 0  # where it is the wider, the commit effect is said
