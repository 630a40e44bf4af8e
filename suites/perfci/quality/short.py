"""Short histories, through the code paths `perfci detect` runs: the store's per-series
scan (`perfci.alerts._scan`, run after run as CI checks, one value per run and a change
only between commits) and the whole-file analysis of a CSV (`changepoint.detect`).

Cells (coefficient of variation 1.5%): large steps (×1.3, ×2, ×5, and the same
improvements, for lower and higher is better) with 30 values before and 8 after; the
same with 12 to 20 before and 5 or 8 after; a small step for comparison; a history of 8
(or 6) commits of 3 runs each with +30% at one commit; steps of 6 to 18 times the noise
behind one or two commits of 3 runs, alerted or suspected (what perf-main measures
again); and noise alone at those lengths, for every family. A detection counts only at
the exact index (the right commit)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import numpy as np
from evaluate_common import wilson
from series import ALL, UNTUNED, series

from perfci.alerts import _scan
from perfci.confirm import pair_to_measure
from perfci.stats.changepoint import Direction, detect
from perfci.store.alert_rows import SeriesPoint

CV = 0.015
FACTORS = (1.3, 2.0, 5.0)
# A step's size in units of the noise is what a detector sees; a ×6 slowdown of a kernel
# whose run medians move by ×1.5 is about 9σ.
SIGMAS = (6, 9, 12, 18)
TAIL_FAMILIES = ("gaussian", "lognormal", "bimodal", "AR(1) 0.5")
_WHEN = datetime(2026, 1, 1)


def store_scan(values: np.ndarray, commits: list[int], direction: str) -> list[tuple[int, str]]:
    """(index, kind) of each change the store's scan finds, every tail checked."""
    points = [
        SeriesPoint(c, _WHEN + timedelta(minutes=i), c, f"{c:040x}", 1, 1, float(v))
        for i, (v, c) in enumerate(zip(values, commits, strict=True))
    ]
    found, _ = _scan((1, "m", "fp"), points, direction, {}, 0.01, None)
    first = {c: commits.index(c) for c in set(commits)}
    return [(first[f.commit_id], f.kind) for f in found if f.kind != "environment"]


def csv_detect(values: np.ndarray, commits: list[int], direction: str) -> list[tuple[int, str]]:
    return [(c.index, c.kind) for c in detect(values, direction, groups=commits)]  # type: ignore[arg-type]


PATHS = {"store": store_scan, "CSV": csv_detect}


def _values(family: str, seed: int, n: int, at: int, factor: float) -> np.ndarray:
    # `series` steps in the regression direction of "lower": a factor below 1 is passed
    # as the step of "higher", which divides
    if factor == 1:
        return series(family, seed, n=n, cv=CV)
    if factor > 1:
        return series(family, seed, n=n, step=factor - 1, at=at, cv=CV)
    return series(family, seed, n=n, step=1 / factor - 1, at=at, direction="higher", cv=CV)


def step_cell(
    args: tuple[str, str, int, int, int, float, str, int, int],
) -> tuple[int, int]:
    """(found at the exact index, any change found elsewhere) over `count` series."""
    family, path, before, after, runs, factor, direction, first, count = args
    n = before + after
    commits = [i // runs for i in range(n)]
    worse = (factor > 1) == (direction == "lower")
    kind = "regression" if worse else "improvement"
    exact = other = 0
    for s in range(first, first + count):
        found = PATHS[path](_values(family, s, n, before, factor), commits, direction)
        exact += (before, kind) in found
        other += any(f != (before, kind) for f in found)
    return exact, other


def tail_cell(args: tuple[str, int, int, float, int, int]) -> tuple[int, int]:
    """(alerted at the exact index, alerted or suspected there) over `count` series of
    `before` values and `after` (commits of 3 runs), slower by `factor`: the store's
    scan, and when it raises nothing the rule `perfci confirm` runs
    (`perfci.confirm.pair_to_measure`), whose suspicion perf-main measures again."""
    family, before, after, factor, first, count = args
    n = before + after
    commits = [i // 3 for i in range(n)]
    alerted = either = 0
    for s in range(first, first + count):
        values = _values(family, s, n, before, factor)
        hit = (before, "regression") in store_scan(values, commits, "lower")
        if not hit:
            pair = pair_to_measure(list(values), [f"{c:040x}" for c in commits], 0, "lower")
            either += pair is not None and pair.suspect.index == before
        alerted += hit
        either += hit
    return alerted, either


def null_cell(args: tuple[str, str, int, int, int, int]) -> int:
    """Series of noise alone with any change found."""
    family, path, n, runs, first, count = args
    commits = [i // runs for i in range(n)]
    return sum(
        bool(PATHS[path](series(family, s, n=n, cv=CV), commits, "lower"))
        for s in range(first, first + count)
    )


def tail_table(run: Callable[..., Iterable[tuple[int, int]]], seed: int, n: int) -> list[str]:
    """Steps in units of the noise behind one or two commits of 3 runs (markdown lines)."""
    lines = [
        "### Steps in units of the noise: 4 commits of 3 runs before, 1 or 2 after "
        "(store; alerted / alerted or suspected)",
        "",
        "| family | runs after | " + " | ".join(f"+{k}σ" for k in SIGMAS) + " |",
        "|---|---|" + "---|" * len(SIGMAS),
    ]
    for family in TAIL_FAMILIES:
        for after in (3, 6):
            cells = []
            for k in SIGMAS:
                jobs = [(family, 12, after, 1 + k * CV, a, b) for a, b in _split(seed, n)]
                results = list(run(tail_cell, jobs))
                alerted, either = (sum(r[i] for r in results) for i in (0, 1))
                cells.append(f"{wilson(alerted, n)} / {wilson(either, n)}")
            lines.append(f"| {family} | {after} | " + " | ".join(cells) + " |")
    return lines


def _split(first: int, n: int, parts: int = 4) -> list[tuple[int, int]]:
    size = -(-n // parts)
    return [(first + i, min(size, n - i)) for i in range(0, n, size)]


def short_histories(pool: object, seed: int, n_step: int, n_null: int) -> list[str]:
    """The short-history tables (markdown lines); `pool` maps jobs over processes."""
    run = pool.map  # type: ignore[attr-defined]

    def steps(family: str, path: str, before: int, after: int, runs: int, f: float, d: str) -> str:
        jobs = [(family, path, before, after, runs, f, d, a, b) for a, b in _split(seed, n_step)]
        results = list(run(step_cell, jobs))
        return wilson(sum(r[0] for r in results), n_step)

    def nulls(family: str, path: str, n: int, runs: int, count: int) -> str:
        jobs = [(family, path, n, runs, a, b) for a, b in _split(seed + 500_000, count)]
        return wilson(sum(run(null_cell, jobs)), count)

    lines = [
        "### Large steps in short histories (30 before, 8 after, CV 1.5%, Gaussian; found at "
        "the exact index)",
        "",
        "| step | direction | path | ×1.3 | ×2 | ×5 | +5% | +10% |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows: list[tuple[str, Direction, bool]] = [
        ("slower", "lower", True),
        ("faster", "lower", False),
        ("lower throughput", "higher", False),
        ("higher throughput", "higher", True),
    ]
    for name, direction, up in rows:
        for path in PATHS:
            cells = []
            for f in (*FACTORS, 1.05, 1.10):
                factor = f if up else 1 / f
                cells.append(steps("gaussian", path, 30, 8, 1, factor, direction))
            lines.append(f"| {name} | {direction} | {path} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Shorter histories (Gaussian, CV 1.5%, slower; found at the exact index; store / CSV)",
        "",
        "| before | after | ×1.3 | ×2 | ×5 |",
        "|---|---|---|---|---|",
    ]
    for before in (12, 16, 20):
        for after in (5, 8):
            cells = [
                " / ".join(steps("gaussian", p, before, after, 1, f, "lower") for p in PATHS)
                for f in FACTORS
            ]
            lines.append(f"| {before} | {after} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Commits of 3 runs each, +30% at one commit (CV 1.5%; store / CSV)",
        "",
        "| family | 8 commits, slower from the 5th | 8, from the 6th | 6, from the 5th "
        "| identical code, 8 commits | identical code, 6 commits |",
        "|---|---|---|---|---|---|",
    ]
    for family in ALL:
        cells = [
            " / ".join(steps(family, p, 3 * at, 3 * (commits - at), 3, 1.3, "lower") for p in PATHS)
            for commits, at in ((8, 4), (8, 5), (6, 4))
        ]
        cells += [" / ".join(nulls(family, p, 3 * c, 3, n_null) for p in PATHS) for c in (8, 6)]
        mark = " (untuned)" if family in UNTUNED else ""
        lines.append(f"| {family}{mark} | " + " | ".join(cells) + " |")
    lines += ["", *tail_table(run, seed, n_step)]
    lines += [
        "",
        "### Noise alone in short histories (CV 1.5%, one run a commit; store / CSV)",
        "",
        "| family | 38 values | 20 values |",
        "|---|---|---|",
    ]
    for family in ALL:
        cells = [" / ".join(nulls(family, p, n, 1, n_null) for p in PATHS) for n in (38, 20)]
        mark = " (untuned)" if family in UNTUNED else ""
        lines.append(f"| {family}{mark} | " + " | ".join(cells) + " |")
    return [*lines, ""]
