"""One incremental detector for production and evaluation: the alerts history mode stores
(real SQLite and PostgreSQL stores, run by run and replayed in full) are the changes
`replay` finds on the same values; and the scan's prefix sums agree with the same
quantities recomputed from scratch. Seeds are fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from perfci.alerts import AlertRow, check_history, update_alerts
from perfci.results import BenchmarkResult, Metric, RunResult
from perfci.stats.changepoint import ChangePoint, replay
from perfci.stats.incremental import Segment, step
from perfci.stats.scan import (
    PrefixSums,
    best_split,
    pooled_spread,
    robust_scale,
    scan,
    winsorise,
)
from perfci.stats.segments import MIN_AFTER, MIN_BEFORE, cuts_of, validate
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from tests import factories


def _case(seed: int) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Commits of one to three runs; latency and throughput of each run: noise alone,
    steps (large and small, either way), a drift, or a history too short to judge."""
    rng = np.random.default_rng(seed)
    kind = seed % 4
    commits_n = int(rng.integers(6, 12)) if kind == 3 else int(rng.integers(25, 45))
    commits = [c for c in range(commits_n) for _ in range(int(rng.integers(1, 4)))]
    n = len(commits)
    latency = 1e-3 * (1 + 0.015 * rng.standard_normal(n))
    throughput = 5e4 * (1 + 0.015 * rng.standard_normal(n))
    if kind == 1:  # steps at commits
        for _ in range(int(rng.integers(1, 3))):
            at = commits.index(int(rng.integers(5, commits_n)))
            latency[at:] *= float(rng.choice([1.3, 2.0, 0.7, 1.05]))
            throughput[at:] /= float(rng.choice([1.3, 2.0, 0.7]))
    elif kind == 2:  # a drift, and a step
        latency *= np.linspace(1, 1.25, n)
        throughput[n // 2 :] *= 1.4
    elif kind == 3:  # a short history: a large step where just enough runs come before it
        starts = [i for i in range(MIN_BEFORE, n - MIN_AFTER + 1) if commits[i] != commits[i - 1]]
        if starts:
            latency[starts[0] :] *= 2.0
    return commits, latency, throughput


def _runs(commits: list[int], latency: np.ndarray, throughput: np.ndarray) -> list[RunResult]:
    """One run per value, its one sample the value (so the stored median is the value)."""
    shas = [factories.sha(f"step-{c}") for c in range(commits[-1] + 1)]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    runs = []
    for i, c in enumerate(commits):
        bench = BenchmarkResult(
            suite="suites/perfci/test_step",
            name="test_series",
            params={},
            metrics=(
                Metric("latency", "s", "lower", (float(latency[i]),)),
                Metric("throughput", "items/s", "higher", (float(throughput[i]),)),
            ),
        )
        runs.append(
            factories.run(
                commit=shas[c],
                parents=(shas[c - 1],) if c else (),
                benchmarks=(bench,),
                started_at=(when + timedelta(minutes=i)).isoformat(),
            )
        )
    return runs


Change = tuple[str, str, str, str]  # metric, commit sha, kind, shape


def _expected(commits: list[int], latency: np.ndarray, throughput: np.ndarray) -> set[Change]:
    """(metric, commit sha, kind, shape) of each change `replay` finds."""
    out = set()
    for metric, values, direction in (
        ("latency", latency, "lower"),
        ("throughput", throughput, "higher"),
    ):
        for c in replay(values, direction, groups=commits):  # type: ignore[arg-type]
            out.add((metric, factories.sha(f"step-{commits[c.index]}"), c.kind, c.shape))
    return out


def _stored(alerts: list[AlertRow]) -> set[Change]:
    return {(a.metric, a.commit, a.kind, a.shape) for a in alerts}


@pytest.mark.parametrize("seed", range(12))
def test_a_full_check_of_the_store_stores_what_replay_finds(store: Store, seed: int) -> None:
    commits, latency, throughput = _case(seed)
    ingest_runs(store, _runs(commits, latency, throughput))
    expected = _expected(commits, latency, throughput)
    history = check_history(store, recheck=None)
    assert _stored(history.alerts) == expected
    long_enough = len(commits) >= MIN_BEFORE + MIN_AFTER
    if seed % 4 != 0 and long_enough:  # steps are found: not a comparison of empty sets
        assert expected
    assert all(s.too_short for s in history.series) == (not long_enough)


@pytest.mark.parametrize("seed", [1, 2, 3, 6, 9])
def test_checking_the_store_run_by_run_stores_what_replay_finds(store: Store, seed: int) -> None:
    """As CI does: ingest a run, check (re-checking only the newest tails), again."""
    commits, latency, throughput = _case(seed)
    for run in _runs(commits, latency, throughput):
        ingest_runs(store, [run])
        alerts = update_alerts(store)
    expected = _expected(commits, latency, throughput)
    assert expected and _stored(alerts) == expected


def test_replay_is_the_detector_step_taken_value_by_value() -> None:
    """`replay` and a loop of `step`s written out here give the same changes."""
    for seed in range(6):
        commits, latency, _ = _case(seed)
        values, cuts = validate(latency), cuts_of(commits, len(latency))
        segment = Segment()
        found: list[ChangePoint] = []
        for end in range(1, len(values) + 1):
            done = step(values, end, segment, "lower", cuts=cuts)
            if done is not None:
                found = [*found[:-1], done.change] if done.grown else [*found, done.change]
                segment = done.segment
        assert found == replay(latency, groups=commits)


# The prefix sums of the scan, against sums taken afresh at every split.

RELATIVE = 1e-9


def _random_segment(rng: np.random.Generator) -> np.ndarray:
    """Log values at a random level (nanoseconds to hours, or a throughput up to 1e12),
    noise from 0.5% to 20%, sometimes autocorrelated, with steps and outliers."""
    n = int(rng.integers(3, 401))
    level = float(rng.uniform(-21, 28))
    cv = float(np.exp(rng.uniform(np.log(0.005), np.log(0.2))))
    noise = cv * rng.standard_normal(n)
    if rng.random() < 0.3:
        rho = float(rng.uniform(0, 0.8))
        for i in range(1, n):
            noise[i] += rho * noise[i - 1]
    y = level + noise
    for _ in range(int(rng.integers(0, 3))):
        y[int(rng.integers(0, n)) :] += float(rng.uniform(-0.4, 0.4))
    outliers = rng.random(n) < 0.03
    y[outliers] += float(rng.uniform(0.1, 0.5))
    return y


def _close(fast: np.ndarray, brute: np.ndarray, scale: np.ndarray) -> bool:
    return bool(np.all(np.abs(fast - brute) <= RELATIVE * scale))


@pytest.mark.parametrize("seed", range(4))
def test_the_block_moments_are_the_sums_taken_afresh(seed: int) -> None:
    """Means, sums of squares and neighbour products of both blocks at every split, from
    the prefix sums, against the blocks summed one by one. Means to 1e-9 of the mean
    size of the block's values; the squares and products to 1e-9 of the pooled sum of
    squares they are judged against (noise² × (n - 2)), since a difference of prefix
    sums carries the rounding of the whole prefix."""
    rng = np.random.default_rng(seed)
    for _ in range(50):
        w = _random_segment(rng)
        n = len(w)
        ks = np.arange(1, n)
        fast = PrefixSums(w).moments(ks)
        for i, k in enumerate(ks):
            a, b = w[:k], w[k:]
            ma, mb = float(np.mean(a)), float(np.mean(b))
            ss = [float(np.sum((a - ma) ** 2)), float(np.sum((b - mb) ** 2))]
            cross = [
                float(np.sum((a[:-1] - ma) * (a[1:] - ma))),
                float(np.sum((b[:-1] - mb) * (b[1:] - mb))),
            ]
            pooled = max(ss[0] + ss[1], 1e-300)
            assert abs(fast.mean_before[i] - ma) <= RELATIVE * np.mean(np.abs(a))
            assert abs(fast.mean_after[i] - mb) <= RELATIVE * np.mean(np.abs(b))
            assert abs(fast.shift[i] - (mb - ma)) <= RELATIVE * np.sqrt(pooled / n)
            assert abs(fast.ss_before[i] - ss[0]) <= RELATIVE * pooled, (n, k)
            assert abs(fast.ss_after[i] - ss[1]) <= RELATIVE * pooled, (n, k)
            assert abs(fast.cross_before[i] - cross[0]) <= RELATIVE * pooled, (n, k)
            assert abs(fast.cross_after[i] - cross[1]) <= RELATIVE * pooled, (n, k)


@pytest.mark.parametrize("seed", range(4))
def test_the_pooled_spread_of_differences_is_the_spread_taken_afresh(seed: int) -> None:
    """The within-block variance of lag-1 and lag-2 differences, those straddling the
    split left out, each block around its own mean: to 1e-9 relative."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(50):
        y = _random_segment(rng)
        n = len(y)
        if n < MIN_BEFORE + MIN_AFTER:
            continue
        ks = np.arange(MIN_BEFORE, n - MIN_AFTER + 1)
        for lag in (1, 2):
            d = y[lag:] - y[:-lag]
            fast = pooled_spread(d, ks, lag)
            brute = []
            for k in ks:
                a, b = d[: k - lag], d[k:]
                ss = np.sum((a - a.mean()) ** 2) + (np.sum((b - b.mean()) ** 2) if len(b) else 0)
                brute.append(ss / (len(a) - 1 + max(len(b) - 1, 0)))
            assert _close(fast, np.array(brute), np.abs(np.array(brute))), (n, lag)


def test_the_scan_uses_the_blocks_it_names() -> None:
    """The scan's shifts and step fits (its between-block sums of squares), from the
    prefix sums, are those of the winsorised blocks before and after each split, the
    recent splits (fewer than MIN_AFTER after) included."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(MIN_BEFORE + MIN_AFTER, 200))
        y = float(rng.uniform(-21, 28)) + 0.01 * rng.standard_normal(n)
        y[n // 2 :] += 0.05
        found = scan(y)
        assert found is not None
        w = winsorise(y, robust_scale(y))
        noise = float(np.std(w))
        for splits, shifts, fits in (
            (found.splits, found.shift, found.fit),
            (np.arange(n - MIN_AFTER + 1, n), found.recent_shift, found.recent_fit),
        ):
            assert len(splits) == len(shifts) == len(fits) > 0
            for k, shift, fit in zip(splits, shifts, fits, strict=True):
                a, b = w[:k], w[k:]
                between = k * (a.mean() - w.mean()) ** 2 + (n - k) * (b.mean() - w.mean()) ** 2
                assert abs(shift - (b.mean() - a.mean())) <= RELATIVE * noise
                assert abs(fit - between) <= RELATIVE * noise**2 * n


@pytest.mark.parametrize("cv", [0.002, 0.02])
def test_the_unit_does_not_move_the_evidence(cv: float) -> None:
    """The same series in seconds, nanoseconds or a billion times larger: the strongest
    split has the same statistic, noise and autocorrelation to 1e-9 relative (sums of
    squares taken around a level far from zero once lost up to six digits of them)."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = int(rng.integers(30, 300))
        values = 1 + cv * rng.standard_normal(n)
        values[int(rng.integers(MIN_BEFORE, n - MIN_AFTER)) :] *= 1 + 3 * cv
        base = best_split(values)
        assert base is not None
        for unit in (1e-9, 1e9):
            scaled = best_split(values * unit)
            assert scaled is not None and scaled.index == base.index
            assert scaled.statistic == pytest.approx(base.statistic, rel=RELATIVE)
            assert scaled.noise == pytest.approx(base.noise, rel=RELATIVE)
            assert scaled.rho == pytest.approx(base.rho, rel=RELATIVE, abs=1e-12)
