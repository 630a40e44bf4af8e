"""The pull-request comparator: run-to-run noise in the interval, simultaneous intervals,
verdicts by direction and minimum effect, and its store-backed baseline."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from factories import benchmark, run, sha

from perfci.baseline import choose_baseline, compare_runs
from perfci.compare import MIN_RUNS, compare_metrics
from perfci.config import Config
from perfci.results import RunResult
from perfci.stats.runs import compare_runs_samples, judge, t_quantile
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from perfci.store.queries import MetricRow, RunRow, get_run


def rows(levels: np.ndarray, rng: np.random.Generator, direction: str = "lower") -> list[MetricRow]:
    out = []
    for i, level in enumerate(levels):
        s = tuple(float(x) for x in level * np.exp(0.02 * rng.standard_normal(20)))
        m = float(np.median(s))
        out.append(MetricRow("suite", f"b{i}", {}, "latency", "s", direction, 20, m, m, m, s))
    return out


def simulate(rng: np.random.Generator, shift: float, run_noise: float = 0.008, n: int = 100):
    base = [rows(np.exp(run_noise * rng.standard_normal(n)), rng) for _ in range(10)]
    head = rows(np.exp(run_noise * rng.standard_normal(n)) * (1 + shift), rng)
    return base, [head]


def test_t_quantile_matches_tables() -> None:
    assert t_quantile(1.959964, 10) == pytest.approx(2.228, abs=0.01)
    assert t_quantile(1.959964, 30) == pytest.approx(2.042, abs=0.005)
    assert t_quantile(1.959964, None) == pytest.approx(1.959964)


def test_identical_code_across_runs_is_rarely_flagged() -> None:
    rng = np.random.default_rng(0)
    flagged = 0
    for _ in range(20):
        verdicts = [c.verdict for c in compare_metrics(*simulate(rng, 0.0))]
        flagged += sum(v in ("regression", "improvement") for v in verdicts)
    assert flagged <= 5  # of 2,000 benchmark comparisons


def test_within_run_statistics_alone_would_cry_wolf() -> None:
    """The reason for run-level intervals: with one run a side and run noise as large
    as the within-run noise, a samples-only interval excludes 1 most of the time."""
    rng = np.random.default_rng(1)
    base, head = simulate(rng, 0.0, run_noise=0.02)
    est = [compare_runs_samples([b.samples], [h.samples], assumed_noise=0.0)
           for b, h in zip(base[-1], head[0], strict=True)]  # fmt: skip
    assert sum(not e.low <= 1 <= e.high for e in est) > 30
    ours = compare_metrics(base, head)
    assert sum(c.verdict in ("regression", "improvement") for c in ours) <= 1


def test_five_percent_regressions_are_found() -> None:
    rng = np.random.default_rng(2)
    verdicts = [c.verdict for c in compare_metrics(*simulate(rng, 0.05))]
    assert verdicts.count("regression") >= 95


def test_one_slow_round_in_every_run_leaves_the_noise_estimate_honest() -> None:
    """Eight runs of identical code, five rounds each (the quick profile's minimum), one
    round of each 6-8 times slower (a GC pause, a page-in): the estimated run-to-run
    noise stays within 2x of the spread of the run medians, and a +15% change is still
    called. An order-statistic floor over five rounds spans the slow one and read ~50%."""

    def run_of(rng: np.random.Generator, level: float) -> list[MetricRow]:
        rounds = level * np.exp(0.015 * rng.standard_normal() + 0.01 * rng.standard_normal(5))
        rounds[rng.integers(5)] *= rng.uniform(6, 8)
        s = tuple(float(x) for x in rounds)
        m = float(np.median(s))
        return [MetricRow("suite", "b", {}, "latency", "s", "lower", 5, m, m, m, s)]

    for seed in range(20):
        rng = np.random.default_rng(seed)
        runs = [run_of(rng, 10e-3) for _ in range(8)]
        medians = np.log([r[0].median for r in runs])
        spread = float(np.std(medians, ddof=1))
        (same,) = compare_metrics(runs[:4], runs[4:])
        assert same.verdict in ("unchanged", "inconclusive"), (seed, same)
        noise = float(same.note.split("noise ")[1].split("%")[0]) / 100  # type: ignore[union-attr]
        assert spread / 2 <= noise <= 2 * spread, (seed, noise, spread)
        (slower,) = compare_metrics(runs[:4], [run_of(rng, 11.5e-3) for _ in range(4)])
        assert slower.verdict == "regression", (seed, slower)


def test_throughput_lower_is_a_regression() -> None:
    est = compare_runs_samples([[100.0] * 5] * 5, [[90.0] * 5])
    assert judge(est, "higher", 0.03) == "regression"
    assert judge(est, "lower", 0.03) == "improvement"


def test_small_real_change_is_unchanged_and_noisy_one_inconclusive() -> None:
    rng = np.random.default_rng(3)
    base = [list(np.exp(0.001 * rng.standard_normal(20))) for _ in range(10)]
    est = compare_runs_samples(base, [[1.01] * 20])
    assert judge(est, "lower", 0.03) == "unchanged" and est.low > 1
    noisy = compare_runs_samples([[1.0] * 5], [[1.0] * 5], assumed_noise=0.05)
    assert judge(noisy, "lower", 0.03) == "inconclusive" and noisy.noise_source == "assumed"
    assert noisy.detectable > 0.1


def single(name: str, value: float, metric: str = "cold_start") -> MetricRow:
    return MetricRow("suite", name, {}, metric, "s", "lower", 1, value, value, value, (value,))


def test_no_change_is_called_until_the_runs_tell_the_noise() -> None:
    """Identical code can differ 23-fold between processes in a first call of a few
    microseconds; with one run a side nothing tells that noise, so nothing is called."""
    one = compare_metrics([[single("cold", 5e-6)]], [[single("cold", 1.2e-4)]])
    assert [c.verdict for c in one] == ["inconclusive"]
    assert one[0].note is not None and "noise unknown with 1 base and 1 head run(s)" in one[0].note
    assert "a verdict needs 5 in all" in one[0].note
    # four quiet base runs tell the noise: the same 24-fold change is now a regression
    base = [[single("cold", 5e-6 * (1 + 0.01 * i))] for i in range(4)]
    four = compare_metrics(base, [[single("cold", 1.2e-4)]])
    assert [c.verdict for c in four] == ["regression"]


def test_reports_say_once_why_metrics_have_no_verdict() -> None:
    from perfci.compare import Baseline
    from perfci.report.comment import comment_markdown
    from perfci.report.json import comparison_json
    from perfci.report.text import comparison_report

    base = [[single("cold", 5e-6), single("a", 1.0, "latency")]]
    head = [[single("cold", 1.2e-4), single("a", 1.0, "latency")]]
    comparisons = compare_metrics(base, head)
    run = RunRow(1, sha("c"), "main", "c", "vm", "m", "e", datetime.now(UTC), "passed", None,
                 "push", "perfci", 2, 0, 0)  # fmt: skip
    baseline = Baseline(run, "run 1 of this commit")
    text = comparison_report(baseline, comparisons)
    assert "2 metric(s) have no verdict yet" in text and "suite::cold" not in text
    markdown = comment_markdown(baseline, comparisons)
    assert markdown.startswith("**perfci: nothing decided yet** — 2 metrics need")
    fold = (
        "<details><summary>2 metrics without a verdict yet: run-to-run noise unknown with "
        f"fewer than {MIN_RUNS} runs in all</summary>"
    )
    assert fold in markdown
    assert markdown.index(fold) < markdown.index("`a`")
    doc = json.loads(comparison_json(baseline, comparisons))
    assert {c["noise"] for c in doc["comparisons"]} == {"assumed"}


def test_deterministic_figures_are_compared_exactly() -> None:
    """A figure every run gives the same (a package's size, a device's peak) has no noise
    to model: any change is a change, however small, and none is no change."""
    size = [[single("pkg", 1000.0, "package_size")] for _ in range(3)]
    grown = compare_metrics(size, [[single("pkg", 1001.0, "package_size")]])
    assert [(c.verdict, c.noise, c.p_value) for c in grown] == [("regression", "exact", None)]
    assert grown[0].ratio == grown[0].ci[0] == grown[0].ci[1] == 1.001  # type: ignore[index]
    shrunk = compare_metrics(size, [[single("pkg", 500.0, "package_size")]] * 2)
    assert [c.verdict for c in shrunk] == ["improvement"]
    same = compare_metrics(size, [[single("pkg", 1000.0, "package_size")]])
    assert [(c.verdict, c.noise) for c in same] == [("unchanged", "exact")]
    # a minimum the benchmark's own configuration sets still applies
    tolerant_config = Config(thresholds=(("suite::*", 0.01),))
    tolerant = compare_metrics(
        size, [[single("pkg", 1001.0, "package_size")]], config=tolerant_config
    )
    assert [(c.verdict, c.noise) for c in tolerant] == [("unchanged", "exact")]
    # one run a side cannot tell a deterministic figure from a noisy one
    one = compare_metrics(size[:1], [[single("pkg", 1001.0, "package_size")]])
    assert [(c.verdict, c.noise) for c in one] == [("inconclusive", "assumed")]
    # a figure that varied on either side goes through the noise model
    varied = [[single("pkg", 1000.0 + i, "package_size")] for i in range(4)]
    assert compare_metrics(varied, [[single("pkg", 1001.0, "package_size")]])[0].noise == "runs"


def test_a_process_wide_memory_figure_is_shown_but_never_gates() -> None:
    """The process's resident peak includes what earlier work left resident: it moved
    from 257 to 425 MiB in unchanged code. It is compared and kept, never a verdict."""
    from perfci.compare import fails
    from perfci.report.text import comparison_report

    mib = float(2**20)
    base = [[single("b", (257 + i) * mib, "process_peak_memory")] for i in range(4)]
    head = [[single("b", 425 * mib, "process_peak_memory")]]
    (c,) = compare_metrics(base, head)
    assert (c.verdict, c.gates) == ("inconclusive", False)
    assert c.ratio == pytest.approx(425 / 258.5, rel=0.01)
    assert not fails([c])
    from perfci.compare import Baseline

    text = comparison_report(Baseline(object(), "run 1"), [c])  # type: ignore[arg-type]
    assert "1 process-wide memory figure(s) are kept but never judged" in text
    assert "suite::b" not in text
    # the same jump in a figure of the benchmark's own is a regression that gates
    own = [[single("b", (257 + i) * mib, "device_peak_memory")] for i in range(4)]
    (d,) = compare_metrics(own, [[single("b", 425 * mib, "device_peak_memory")]])
    assert (d.verdict, d.gates) == ("regression", True) and fails([d])


def test_new_missing_error_and_bad_values() -> None:
    rng = np.random.default_rng(4)
    base = rows(np.ones(3), rng)
    new = MetricRow("suite", "fresh", {}, "latency", "s", "lower", 1, 1.0, 1.0, 1.0, (1.0,))
    zero = MetricRow("suite", "b1", {}, "latency", "s", "lower", 1, 0.0, 0.0, 0.0, (0.0,))
    verdicts = {c.benchmark: c.verdict for c in compare_metrics([base], [[base[0], new, zero]])}
    assert verdicts["suite::fresh"] == "new"
    assert verdicts["suite::b1"] == "error"
    assert verdicts["suite::b2"] == "missing"
    # one run a side, run-to-run noise only assumed (20%): too noisy to call it unchanged
    assert verdicts["suite::b0"] == "inconclusive"


def chained(commits: list[str], i: int, hour: int = 10, **fields: Any) -> RunResult:
    """A run of commit i, whose parent is commit i - 1, on day i + 1 of November."""
    fields.setdefault("benchmarks", (benchmark(seed=i),))
    return run(
        commit=commits[i],
        parents=(commits[i - 1],) if i else (),
        started_at=f"2026-11-{i + 1:02d}T{hour}:00:00+00:00",
        **fields,
    )


def test_baseline_uses_several_runs_and_stops_at_an_environment_change(store: Store) -> None:
    """…of this machine: another machine's runs in between are passed over."""
    from dataclasses import replace

    from factories import ENVIRONMENT, MACHINE

    other = replace(ENVIRONMENT, packages={**ENVIRONMENT.packages, "torch": "9.9"})
    elsewhere = replace(MACHINE, name="mini-2", chip="Apple M2")
    commits = [sha(f"c{i}") for i in range(5)]
    results = [chained(commits, i, environment=other if i == 0 else ENVIRONMENT) for i in range(5)]
    results.insert(3, chained(commits, 2, hour=11, machine=elsewhere))
    stored = ingest_runs(store, results)
    head = get_run(store, stored[-1].run_id)
    assert head is not None
    baseline = choose_baseline(store, head, commits[::-1])
    assert [r.sha for r in baseline.runs] == commits[3:0:-1]
    comparisons = compare_runs(store, [r.id for r in baseline.runs], [head.id])
    assert {c.verdict for c in comparisons if c.metric == "latency"} <= {
        "unchanged",
        "inconclusive",
    }
    assert math.isfinite(comparisons[0].ratio or math.nan)


def test_every_run_of_the_head_commit_counts_and_a_change_among_base_commits_is_cut_off(
    store: Store,
) -> None:
    """Commits measured three times each, a +30% slowdown at commit 4. Comparing the
    README-only commit 5 with commit 4: all three runs of commit 5 are the head; the base
    walk gathers 10 runs down to commit 1, but commit 4's level differs from the older
    runs', so commit 4's three runs alone are its base: unchanged. The slowdown pair
    keeps all 10 base runs (no shift among them) and is a regression."""
    from perfci.baseline import head_runs

    commits = [sha(f"three-{i}") for i in range(6)]
    results = [
        chained(
            commits,
            i,
            hour=10 + k,
            benchmarks=(benchmark(latency=1.3e-3 if i >= 4 else 1e-3, seed=10 * i + k),),
        )
        for i in range(6)
        for k in range(3)
    ]
    stored = ingest_runs(store, results)

    def latency(base: int, head: int) -> tuple[int, str, int]:
        newest = get_run(store, stored[3 * head + 2].run_id)
        assert newest is not None
        heads = head_runs(store, newest)
        assert sorted(r.id for r in heads) == [stored[3 * head + k].run_id for k in range(3)]
        baseline = choose_baseline(
            store, newest, commits[base::-1], exclude=frozenset(r.id for r in heads)
        )
        (c,) = (
            c
            for c in compare_runs(
                store,
                [r.id for r in baseline.runs],
                [r.id for r in heads],
                nearest_base=baseline.nearest,
            )
            if c.metric == "latency"
        )
        return len(baseline.runs), c.verdict, c.n_base

    assert latency(4, 5) == (10, "unchanged", 3 * 20)
    assert latency(3, 4) == (10, "regression", 10 * 20)


def _conditions_run(i: int, commits: list[str], load: float, thermal: str):
    from dataclasses import replace

    result = chained(commits, i)
    return replace(result, run=replace(result.run, load_average=load, thermal_state=thermal))


def test_a_busier_or_hotter_head_is_stated_beside_the_verdicts(store: Store) -> None:
    """Base runs on a quiet machine (load 0.7 on 14 cores), the head at load 12.6 and
    throttled: the comparison says so in every format, since timings moved for it."""
    from perfci.report.comment import comment_markdown
    from perfci.report.json import comparison_json
    from perfci.report.text import comparison_report

    commits = [sha(f"c{i}") for i in range(4)]
    runs = [_conditions_run(i, commits, 0.7, "nominal") for i in range(3)]
    runs.append(_conditions_run(3, commits, 12.6, "serious"))
    stored = ingest_runs(store, runs)
    head = get_run(store, stored[-1].run_id)
    assert head is not None
    baseline = choose_baseline(store, head, commits[::-1])
    assert baseline.conditions == (
        "1-minute load per core 0.05 in base, 0.90 in head",
        "thermal state nominal in base, serious in head",
    )
    comparisons = compare_runs(store, [r.id for r in baseline.runs], [head.id])
    assert "run conditions differ: 1-minute load" in comparison_report(baseline, comparisons)
    assert "run conditions differ: thermal state" in comment_markdown(baseline, comparisons)
    assert '"condition_differences": [' in comparison_json(baseline, comparisons)


def test_similar_conditions_say_nothing(store: Store) -> None:
    commits = [sha(f"c{i}") for i in range(3)]
    loads = (0.7, 3.0, 7.0)  # 0.05, 0.21 and 0.5 per core: within the gap
    stored = ingest_runs(
        store, [_conditions_run(i, commits, load, "nominal") for i, load in enumerate(loads)]
    )
    head = get_run(store, stored[-1].run_id)
    assert head is not None
    assert choose_baseline(store, head, commits[::-1]).conditions == ()


def test_after_an_environment_change_the_noise_comes_from_earlier_runs(store: Store) -> None:
    """One base run in the new environment cannot tell the run-to-run noise; this
    machine's runs before the change can, so a doubling is still called."""
    from dataclasses import replace

    from factories import ENVIRONMENT

    upgraded = replace(ENVIRONMENT, packages={**ENVIRONMENT.packages, "torch": "9.9"})
    commits = [sha(f"e{i}") for i in range(9)]
    results = [
        chained(
            commits,
            i,
            environment=upgraded if i >= 7 else ENVIRONMENT,
            benchmarks=(benchmark(latency=1e-3 * (2.0 if i == 8 else 1.0), seed=i),),
        )
        for i in range(9)
    ]
    stored = ingest_runs(store, results)
    head = get_run(store, stored[-1].run_id)
    assert head is not None
    baseline = choose_baseline(store, head, commits[-2::-1])
    assert [r.sha for r in baseline.runs] == [commits[7]]
    assert len(baseline.noise_runs) == 7  # the runs before the upgrade
    with_history = compare_runs(
        store, [baseline.runs[0].id], [head.id], None, None, baseline.noise_runs
    )
    latency = next(c for c in with_history if c.metric == "latency")
    assert (latency.verdict, latency.noise) == ("regression", "history")
    alone = compare_runs(store, [baseline.runs[0].id], [head.id])
    assert next(c for c in alone if c.metric == "latency").unmeasured
