"""perfci's quality evaluation: history and pull-request detection on seeded synthetic
data, with Apache Otava 0.8, asv's step detection and a Mann-Whitney test beside it.

    python suites/perfci/quality/evaluate.py [--quick] [--no-peers]

History series are replayed point by point, as CI sees them run after run (perfci's
`replay`); the peers analyse each whole series once, as their tools do. Every rate
comes with a 95% Wilson interval. The peers live in their own virtual environment
(.perfci/quality-peers, created on first use with pip; `--no-peers` skips them).
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

sys.path.insert(0, str(Path(__file__).parent))
from evaluate_common import wilson
from prmode import aa_and_power
from series import FAMILIES, series

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


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    size = math.ceil(n / parts)
    return [(i, min(size, n - i)) for i in range(0, n, size)]


def history_perfci(
    pool: ProcessPoolExecutor, n_null: int, n_power: int
) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for family in FAMILIES:
        jobs = [(family, 10_000 + a, b) for a, b in _chunks(n_null, 4)]
        false = sum(pool.map(_perfci_null, jobs))
        row = {"null: any false alert": wilson(false, n_null)}
        for name, step, at, direction in POWER:
            jobs2 = [(family, 20_000 + a, b, step, at, direction) for a, b in _chunks(n_power, 4)]
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


def markdown(history: dict[str, dict[str, dict[str, str]]], pr: dict[str, dict[str, str]]) -> str:
    lines = ["### History mode (per noise family; rate and 95% Wilson interval)", ""]
    columns = list(next(iter(history["perfci"].values())))
    lines.append("| family | tool | " + " | ".join(columns) + " |")
    lines.append("|---|---|" + "---|" * len(columns))
    for family in FAMILIES:
        for tool, table in history.items():
            row = table[family]
            lines.append(
                f"| {family} | {tool} | " + " | ".join(row.get(c, "") for c in columns) + " |"
            )
    lines += ["", "### Pull-request mode", ""]
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
    args = parser.parse_args()
    n_null, n_power, n_peer, n_pr = (100, 50, 20, 10) if args.quick else (400, 100, 40, 50)
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        history = {"perfci": history_perfci(pool, n_null, n_power)}
    python = None if args.no_peers else ensure_peers()
    if python is not None:
        history.update(history_peers(python, n_peer))
    pr = aa_and_power(n_pr)
    report = markdown(history, pr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n")
    print(report)
    print(f"\n{time.perf_counter() - started:.0f} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
