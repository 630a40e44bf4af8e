"""perfci's quality evaluation: history and pull-request detection on seeded synthetic
data, with Apache Otava 0.8, asv's step detection and a Mann-Whitney test beside it.

    python suites/perfci/quality/evaluate.py [--quick] [--no-peers] [--seeds calibration]

History series are replayed point by point, as CI sees them run after run (perfci's
`replay`: the detector's incremental steps, the same `step` the store's scan takes after
each run); the short-history cells run the store's scan itself and the CSV path
(`short.py`); the peers analyse each whole series once, as their tools do. Every rate
comes with a 95% Wilson interval. The peers live in their own virtual environment
(.perfci/quality-peers, created on first use with pip; `--no-peers` skips them). The
detector's constants were chosen on the calibration seeds (`--seeds calibration`, every
seed offset by 1,000,000) and the tuned families only; the report uses the other seeds,
and the untuned families were never looked at while choosing.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import venv
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bound import GRID, oracle
from evaluate_common import wilson
from prmode import aa_and_power
from series import ALL, FAMILIES, UNTUNED, series
from short import short_histories

from perfci.stats.changepoint import replay

PEERS_VENV = Path(".perfci/quality-peers")
PEERS = ["apache-otava==0.8.0", "asv==0.6.6"]
# (name, step, index of the first changed value, direction)
POWER = [
    ("+2%", 0.02, 100, "lower"),
    ("+5%", 0.05, 100, "lower"),
    ("+10%", 0.10, 100, "lower"),
    ("+5%, 5 after", 0.05, 195, "lower"),
    ("+5% throughput", 0.05, 100, "higher"),
]


def _perfci_null(args: tuple[str, int, int]) -> int:
    family, first, count = args
    return sum(bool(replay(series(family, s))) for s in range(first, first + count))


def _perfci_power(args: tuple[str, int, int, float, int, str]) -> tuple[int, int]:
    family, first, count, step, at, direction = args
    hits = exact = 0
    for s in range(first, first + count):
        values = series(family, s, step=step, at=at, direction=direction)
        # the tail of the replay starts just before the change when only 5 points follow
        found = replay(values, direction, start_at=at - 5 if at > 150 else 0)  # type: ignore[arg-type]
        ok = [c for c in found if c.kind == "regression" and abs(c.index - at) <= 10]
        hits += bool(ok)
        exact += bool(ok) and abs(ok[0].index - at) <= 1
    return hits, exact


DRIFTS = [("drift +5% over 200 runs", 0.05), ("drift +10% over 200 runs", 0.10)]
SHAPE_STEPS = [("step +2%", 0.02), ("step +5%", 0.05)]


def _shapes(args: tuple[str, float, bool, int, int]) -> tuple[int, int]:
    """(changes found, of which labelled drift) on `count` series from `first`: a linear
    drift of `size` over the series, or a step of `size` at point 100."""
    family, size, drift, first, count = args
    found = drifts = 0
    for s in range(first, first + count):
        if drift:
            values = series(family, s) * np.linspace(1, 1 + size, 200)
        else:
            values = series(family, s, step=size)
        changes = replay(values)
        found += len(changes)
        drifts += sum(c.shape == "drift" for c in changes)
    return found, drifts


def shapes(pool: ProcessPoolExecutor, n: int, offset: int) -> list[str]:
    """Drift against step: how many alerts a slow drift raises and how many of them say
    they are a drift, and how often a real step is mistaken for one."""
    lines = [
        "### Shape: drift or step (perfci; alerts per series, share labelled `drift`)",
        "",
        "| family | series | alerts per series | labelled drift |",
        "|---|---|---|---|",
    ]
    for family in ("gaussian", "outliers 2%", "AR(1) 0.5"):
        cells = [(name, size, True) for name, size in DRIFTS]
        cells += [(name, size, False) for name, size in SHAPE_STEPS]
        for name, size, drift in cells:
            jobs = [(family, size, drift, offset + 30_000 + a, b) for a, b in _chunks(n, 4)]
            results = list(pool.map(_shapes, jobs))
            found, drifts = sum(r[0] for r in results), sum(r[1] for r in results)
            share = wilson(drifts, found) if found else "no alerts"
            lines.append(f"| {family} | {name} | {found / n:.2f} | {share} |")
    return [*lines, ""]


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    size = math.ceil(n / parts)
    return [(i, min(size, n - i)) for i in range(0, n, size)]


def history_perfci(
    pool: ProcessPoolExecutor, n_null: int, n_power: int, offset: int
) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for family in ALL:
        jobs = [(family, offset + 10_000 + a, b) for a, b in _chunks(n_null, 4)]
        false = sum(pool.map(_perfci_null, jobs))
        row = {"null: any false alert": wilson(false, n_null)}
        for name, step, at, direction in POWER:
            first = offset + 20_000
            jobs2 = [(family, first + a, b, step, at, direction) for a, b in _chunks(n_power, 4)]
            results = list(pool.map(_perfci_power, jobs2))
            hits, exact = sum(r[0] for r in results), sum(r[1] for r in results)
            row[f"power {name}"] = wilson(hits, n_power)
            if name in ("+5%", "+10%"):
                row[f"attribution ±1 {name}"] = wilson(exact, max(hits, 1))
        table[family] = row
        print(f"  perfci {family}: {row}", file=sys.stderr, flush=True)
    return table


def ensure_peers() -> Path | None:
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        venv.create(PEERS_VENV, with_pip=True)
        done = subprocess.run([python, "-m", "pip", "install", "-q", *PEERS], check=False)
        if done.returncode != 0:
            print("peers could not be installed; their columns are left out", file=sys.stderr)
            return None
    return python


def _peer_run(python: Path, batch: list[list[float]]) -> list[dict[str, list[list[int]]]]:
    worker = Path(__file__).parent / "peers.py"
    done = subprocess.run(
        [python, worker], input=json.dumps(batch), capture_output=True, text=True, check=True
    )
    out: list[dict[str, list[list[int]]]] = json.loads(done.stdout)
    return out


def history_peers(python: Path, n: int) -> dict[str, dict[str, dict[str, str]]]:
    """Each peer on the first `n` series of every cell perfci saw (same seeds)."""
    tables: dict[str, dict[str, dict[str, str]]] = {"otava": {}, "asv": {}}
    for family in FAMILIES:
        null = _peer_run(python, [series(family, 10_000 + s).tolist() for s in range(n)])
        for peer in tables:
            tables[peer][family] = {
                "null: any false alert": wilson(sum(bool(r[peer]) for r in null), n)
            }
        for name, step, at, direction in POWER:
            # the peers see latency-like series: throughput is inverted for them
            batch = []
            for s in range(20_000, 20_000 + n):
                values = series(family, s, step=step, at=at, direction=direction)
                batch.append((1 / values if direction == "higher" else values).tolist())
            found = _peer_run(python, batch)
            for peer in tables:
                hits = exact = 0
                for r in found:
                    ok = [i for i, sign in r[peer] if sign > 0 and abs(i - at) <= 10]
                    hits += bool(ok)
                    exact += bool(ok) and abs(ok[0] - at) <= 1
                tables[peer][family][f"power {name}"] = wilson(hits, n)
                if name in ("+5%", "+10%"):
                    tables[peer][family][f"attribution ±1 {name}"] = wilson(exact, max(hits, 1))
        print(f"  peers {family} done", file=sys.stderr, flush=True)
    return tables


def bounds(n_null: int, n_power: int) -> list[str]:
    """The oracle's lines (bound.py): what knowing the noise exactly would allow."""
    lines = [
        "### The bound: an oracle that knows σ (white Gaussian noise; bound.py)",
        "",
        "| splits scanned | threshold for 1% false alerts | power +5%, 5 points after |",
        "|---|---|---|",
    ]
    for label, tails in (("every split, as perfci", None), (f"tails {GRID}", GRID)):
        threshold, power = oracle(tails, n_null, n_power)
        hits = round(power * n_power)
        lines.append(f"| {label} | {threshold:.2f} | {wilson(hits, n_power)} |")
        print(f"  bound {label}: {threshold:.2f}, {power:.1%}", file=sys.stderr, flush=True)
    return [*lines, ""]


def markdown(
    history: dict[str, dict[str, dict[str, str]]],
    pr: dict[str, dict[str, str]],
    bound: list[str],
) -> str:
    lines = ["### History mode (per noise family; rate and 95% Wilson interval)", ""]
    columns = list(next(iter(history["perfci"].values())))
    lines.append("| family | tool | " + " | ".join(columns) + " |")
    lines.append("|---|---|" + "---|" * len(columns))
    for family in ALL:
        mark = " (untuned)" if family in UNTUNED else ""
        for tool, table in history.items():
            if family not in table:
                continue
            row = table[family]
            lines.append(
                f"| {family}{mark} | {tool} | " + " | ".join(row.get(c, "") for c in columns) + " |"
            )
    lines += ["", *bound, "### Pull-request mode", ""]
    pr_columns = list(next(iter(pr.values())))
    lines.append("| tool | " + " | ".join(pr_columns) + " |")
    lines.append("|---|" + "---|" * len(pr_columns))
    for tool, row in pr.items():
        lines.append(f"| {tool} | " + " | ".join(row[c] for c in pr_columns) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer series (wider intervals)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(".perfci/quality.md"))
    parser.add_argument(
        "--seeds",
        choices=("report", "calibration"),
        default="report",
        help="calibration: the seeds the detector's constants were chosen on",
    )
    args = parser.parse_args()
    n_null, n_power, n_peer, n_pr = (100, 50, 20, 10) if args.quick else (400, 100, 40, 50)
    n_step, n_short_null = (100, 200) if args.quick else (500, 1000)
    offset = 1_000_000 if args.seeds == "calibration" else 0
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        history = {"perfci": history_perfci(pool, n_null, n_power, offset)}
        shape = shapes(pool, n_power, offset)
        short = short_histories(pool, offset + 40_000, n_step, n_short_null)
        print(f"  short histories done, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    python = None if args.no_peers or offset else ensure_peers()
    if python is not None:
        history.update(history_peers(python, n_peer))
    bound = bounds(*((1000, 500) if args.quick else (4000, 2000)))
    pr = aa_and_power(n_pr)
    report = markdown(history, pr, [*shape, *short, *bound])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n")
    print(report)
    print(f"\n{time.perf_counter() - started:.0f} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
