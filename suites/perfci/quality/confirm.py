"""Confirming suspected changes by measuring again, on seeded synthetic series, beside the
passive detector on the same series.

    python suites/perfci/quality/confirm.py [--quick] [--seeds calibration]
        [--null N] [--power N] [--rounds N] [--level A] [--margin M] [--families F...]

Each series is pushed commit by commit, one run a commit, as CI measures main. After each
push the store's own scan (`perfci.alerts._scan`, the steps `perfci detect` takes) looks
at the newest tail; when it raises nothing, the suspicion rule `perfci.confirm.
pair_to_measure` (the code `perfci confirm` runs) may name a suspected change, and the
confirmation is simulated: `--rounds` rounds, in `perfci.ab.session.PATTERN`'s order, of
one more run of the commit before the suspected change and one of the newest commit,
drawn from the same noise process as the next values in time (an AR(1) series goes on
where it was), each with its commit's level. The rounds are judged by
`perfci.confirm.judge_pair` (the paired test `perfci confirm` runs, at `--level`): when
they support the suspicion, the runs are placed with their commits' runs as the store
orders them and the scan re-checks its newest tails (`perfci.alerts.RECHECK`), as
`perfci confirm` does after storing them; when they do not, the runs stay out of the
series, as `perfci confirm` stores them (A/B runs, not history). Either way the commit
before is measured again once. The passive detector is the same loop with no
confirmation, on the same noise values (each series draws `DRAWS` values whatever the
rounds). Null series: 200 pushes of noise, any alert counts as false; power: +5% from
commit 195 of 200, checked from commit 190 on (as `evaluate.py`'s cell), found when a
regression alert lies within 10 commits of 195. Rates with 95% Wilson intervals; the
calibration seeds are offset by 1,000,000 from the report's."""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from evaluate_common import wilson
from series import ALL, CV, QUANTUM, UNTUNED, Floats, series

from perfci.ab.session import PATTERN
from perfci.alerts import RECHECK, _scan
from perfci.confirm import ROUNDS, judge_pair, pair_to_measure
from perfci.stats.confirmation import LEVEL
from perfci.stats.segments import MIN_AFTER, MIN_BEFORE, MIN_EFFECT
from perfci.stats.suspect import SUSPECT_MARGIN
from perfci.store.alert_rows import SeriesPoint

N = 200
DRAWS = 21 * N  # noise drawn a series, however many rounds: both modes see the same values
AT, STEP, FIRST_CHECK = 195, 0.05, 190  # the power cell: +5% with 5 commits after
_WHEN = datetime(2026, 1, 1)


@dataclass(frozen=True)
class Outcome:
    """One series pushed to its end or to its first alert."""

    alert: int | None  # the commit the first alert is placed at
    kind: str | None
    pushes: int
    confirmations: int
    supported: int  # confirmations whose paired rounds supported the suspicion
    extra_runs: int
    with_runs: bool = False  # alerted with a confirmation's runs in the history


def _noise(family: str, seed: int, n: int) -> Floats:
    """`n` values of the family's noise in time order; the quantised family unrounded
    (the timer reads it, with its level, in `_read`)."""
    return series("gaussian" if family == "quantised" else family, seed, n=n)


def _read(family: str, value: float) -> float:
    if family != "quantised":
        return value
    grid = QUANTUM * CV
    return max(grid * round(value / grid), grid)


def _found(points: list[SeriesPoint], recheck: int) -> tuple[int, str] | None:
    """The first alert of the store's scan over the newest `recheck` tails, as (commit, kind)."""
    found, _ = _scan((1, "latency", "fp"), points, "lower", {}, MIN_EFFECT, recheck)
    return (found[0].commit_id, found[0].kind) if found else None


def push(
    family: str, seed: int, step: float, at: int, first: int, rounds: int, margin: float,
    level: float = LEVEL,
) -> Outcome:  # fmt: skip
    """A series pushed commit by commit (one run each), with confirmations of `rounds`
    rounds (none with 0) judged at `level`, until its first alert or its end."""
    noise = _noise(family, seed, DRAWS)
    clock = 0
    points: list[SeriesPoint] = []
    confirmed: set[str] = set()
    confirmations = supported = 0

    def run(commit: int) -> SeriesPoint:
        nonlocal clock
        level = 1 + step if step and commit >= at else 1.0
        value = _read(family, float(noise[clock]) * level)
        point = SeriesPoint(
            commit, _WHEN + timedelta(minutes=clock), commit, str(commit), 1, 1, value
        )
        clock += 1
        return point

    def outcome(alert: tuple[int, str] | None, pushes: int) -> Outcome:
        found, kind = alert if alert is not None else (None, None)
        extra = 2 * rounds * confirmations
        held = alert is not None and supported > 0
        return Outcome(found, kind, pushes, confirmations, supported, extra, held)

    for commit in range(N):
        points.append(run(commit))
        if commit + 1 < max(first, MIN_BEFORE + MIN_AFTER):
            continue
        alert = _found(points, 1)  # the tails before this push were checked already
        if alert is None and rounds and clock + 2 * rounds <= len(noise):
            pair = pair_to_measure(
                [p.value for p in points], [p.sha for p in points], 0, "lower", MIN_EFFECT,
                confirmed, margin,
            )  # fmt: skip
            if pair is not None:
                confirmed.add(pair.last_good)  # measured again once, whatever the outcome
                confirmations += 1
                measured = []
                for i in range(rounds):
                    opener = PATTERN[i % len(PATTERN)]
                    runs = {}
                    for letter in (opener, "B" if opener == "A" else "A"):
                        runs[letter] = run(int(pair.last_good if letter == "A" else pair.newest))
                    measured.append((runs["A"], runs["B"]))
                evidence = judge_pair(pair, [(a.value, b.value) for a, b in measured], level)
                if evidence.supports:  # the runs join the history; else they stay aside
                    supported += 1
                    points += [p for both in measured for p in both]
                    points.sort(key=lambda p: (p.position, p.started_at))
                    alert = _found(points, RECHECK)
        if alert is not None:
            return outcome(alert, commit + 1)
    return outcome(None, N)


@dataclass(frozen=True)
class Cell:
    hits: int  # null: series with any alert; power: regressions found within 10 of AT
    exact: int  # power: placed within ±1 of AT
    series: int
    pushes: int
    confirmations: int
    supported: int
    extra_runs: int
    with_runs: int  # null: series alerted with a confirmation's runs in the history


def cell(args: tuple[str, int, int, bool, int, float, float]) -> Cell:
    family, first, count, power, rounds, margin, level = args
    hits = exact = pushes = confirmations = supported = extra = with_runs = 0
    for seed in range(first, first + count):
        if power:
            o = push(family, seed, STEP, AT, FIRST_CHECK, rounds, margin, level)
            ok = o.alert is not None and o.kind == "regression" and abs(o.alert - AT) <= 10
            hits += ok
            exact += ok and abs(o.alert - AT) <= 1  # type: ignore[operator]
        else:
            o = push(family, seed, 0.0, N, 0, rounds, margin, level)
            hits += o.alert is not None
        pushes += o.pushes if not power else o.pushes - FIRST_CHECK + 1
        confirmations += o.confirmations
        supported += o.supported
        extra += o.extra_runs
        with_runs += o.with_runs
    return Cell(hits, exact, count, pushes, confirmations, supported, extra, with_runs)


def _total(cells: list[Cell]) -> Cell:
    return Cell(*(sum(getattr(c, f) for c in cells) for f in Cell.__dataclass_fields__))


def evaluate(
    pool: ProcessPoolExecutor, family: str, n_null: int, n_power: int, rounds: int,
    margin: float, level: float, offset: int,
) -> dict[str, Cell]:  # fmt: skip
    """The family's null and power cells, passive (no rounds) and with confirmation."""
    out = {}
    for name, power, count, first in (
        ("null", False, n_null, 10_000),
        ("power", True, n_power, 20_000),
    ):
        for mode, r in (("passive", 0), ("confirm", rounds)):
            size = math.ceil(count / 4)
            jobs = [
                (family, offset + first + a, min(size, count - a), power, r, margin, level)
                for a in range(0, count, size)
            ]
            out[f"{name} {mode}"] = _total(list(pool.map(cell, jobs)))
    return out


def markdown(table: dict[str, dict[str, Cell]], rounds: int, margin: float, level: float) -> str:
    lines = [
        f"### Confirmation ({rounds} rounds a confirmation, paired test at {level:g}, margin "
        f"{margin:g}) beside the passive detector",
        "",
        "| noise family | false alerts per null series: passive | with confirmation "
        "| of which with a confirmation's runs in the history "
        "| +5%, 5 after: passive | with confirmation | attribution ±1 with confirmation "
        "| confirmations per 100 pushes (null) | null confirmations the paired rounds "
        "support | extra runs per 100 pushes (null) | extra runs per power series |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for family, cells in table.items():
        mark = " (untuned)" if family in UNTUNED else ""
        null_p, null_c = cells["null passive"], cells["null confirm"]
        pow_p, pow_c = cells["power passive"], cells["power confirm"]
        per_100 = 100 / null_c.pushes
        lines.append(
            f"| {family}{mark} | {wilson(null_p.hits, null_p.series)} "
            f"| {wilson(null_c.hits, null_c.series)} | {null_c.with_runs} of {null_c.hits} "
            f"| {wilson(pow_p.hits, pow_p.series)} "
            f"| {wilson(pow_c.hits, pow_c.series)} | {wilson(pow_c.exact, max(pow_c.hits, 1))} "
            f"| {null_c.confirmations * per_100:.2f} "
            f"| {wilson(null_c.supported, max(null_c.confirmations, 1))} "
            f"| {null_c.extra_runs * per_100:.1f} | {pow_c.extra_runs / pow_c.series:.1f} |"
        )
    lines += ["", f"Extra runs per confirmation: {2 * rounds} ({rounds} rounds of two runs)."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer series (wider intervals)")
    parser.add_argument("--null", type=int, help="null series a family (default 1000)")
    parser.add_argument("--power", type=int, help="power series a family (default 200)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--margin", type=float, default=SUSPECT_MARGIN)
    parser.add_argument("--level", type=float, default=LEVEL, help="the paired test's level")
    parser.add_argument("--families", nargs="*", default=list(ALL), choices=list(ALL))
    parser.add_argument("--seeds", choices=("report", "calibration"), default="report")
    parser.add_argument("--out", type=Path, default=Path(".perfci/quality-confirm.md"))
    args = parser.parse_args()
    n_null = args.null or (40 if args.quick else 1000)
    n_power = args.power or (20 if args.quick else 200)
    offset = 1_000_000 if args.seeds == "calibration" else 0
    started = time.perf_counter()
    table = {}
    with ProcessPoolExecutor(2) as pool:
        for family in args.families:
            table[family] = evaluate(
                pool, family, n_null, n_power, args.rounds, args.margin, args.level, offset
            )
            print(f"  {family} done, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report = markdown(table, args.rounds, args.margin, args.level)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n")
    print(report)
    print(f"\n{time.perf_counter() - started:.0f} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
