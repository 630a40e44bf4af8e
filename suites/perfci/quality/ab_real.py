"""`perfci ab` on real pytest processes: the command production runs, on a generated
repository whose suite has BENCHMARKS plain pytest-benchmark tests (pure-Python loops of
100-300 µs), at the quick profile.

- A/A: base and head differ in the README only; every flag is a false alarm.
- A/B: head does +5% more work in PLANTED benchmarks, +10% in PLANTED others; the rest
  are unchanged, so a flag there is a false alarm and a planted one found is power.

Each comparison is one `perfci ab` process with its defaults (3 rounds at least, up to
30, a 20-minute budget, the sides taking turns), its profiling of regressions off. Run:
`python suites/perfci/quality/ab_real.py [--aa N] [--ab N] [--benchmarks N]
[--sequential] [--affinity CPUS] [--max-rounds N] [--max-time SECONDS]`; it prints a
Markdown table for QUALITY.md. `--max-time` passes pytest-benchmark's
`--benchmark-max-time` after the quick profile's (the last one given wins), so that a
suite of a few hundred benchmarks fits a comparison into minutes. CI runs a
one-comparison version (tests/test_ab_command.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluate_common import wilson

PERFCI = str(Path(sys.executable).parent / "perfci")
PLANTED = 10  # benchmarks slowed by each planted change


def sizes(count: int) -> list[int]:
    """Each benchmark's loop length, by index."""
    return [2000 + 37 * i for i in range(count)]


def _suite(count: int) -> str:
    return f"""import pytest

from work import kernel

SIZES = {sizes(count)!r}


@pytest.mark.parametrize("i", range(len(SIZES)))
def test_kernel(benchmark, i):
    benchmark(kernel, i, SIZES[i])
"""


def _work(factors: dict[int, float]) -> str:
    return f"""FACTORS = {factors!r}


def kernel(i, n):
    return sum(k * k for k in range(int(n * FACTORS.get(i, 1.0))))
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(
    root: Path, count: int, factors: dict[int, float], extra: Mapping[str, str] | None = None
) -> Path:
    """Two commits: the suite (with `extra`'s files, by path), then `factors` applied
    (empty: a README edit only)."""
    repo = root / "repo"
    (repo / "suites").mkdir(parents=True)
    for name, text in (extra or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "suites" / "test_work.py").write_text(_suite(count))
    (repo / "work.py").write_text(_work({}))
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:hypothesispytest\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.email=q@e", "-c", "user.name=q", "add", ".")
    _git(repo, "-c", "user.email=q@e", "-c", "user.name=q", "commit", "-q", "-m", "suite")
    (repo / "README.md").write_text("# work\n")
    (repo / "work.py").write_text(_work(factors))
    _git(repo, "-c", "user.email=q@e", "-c", "user.name=q", "add", ".")
    _git(repo, "-c", "user.email=q@e", "-c", "user.name=q", "commit", "-q", "-m", "change")
    return repo


def clean_env() -> dict[str, str]:
    """This environment without the pytest and perfci settings of whoever runs it."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}


def latency_verdicts(doc: dict[str, Any]) -> dict[int, str]:
    """Verdict of each benchmark's latency by its index, from a comparison's JSON."""
    return {
        int(c["params"]["i"]): c["verdict"] for c in doc["comparisons"] if c["metric"] == "latency"
    }


def ab_in(repo: Path, db: Path, options: list[str]) -> tuple[dict[int, str], dict[str, Any]]:
    """`perfci ab --base HEAD~1` in `repo`, stored in `db`: its verdicts and `ab` section."""
    done = subprocess.run(
        # measured as perfci ab measures; its profiles of regressions are not timed here
        [PERFCI, "ab", "--base", "HEAD~1", "--format", "json", "--explain-budget", "0",
         "--db", f"sqlite:///{db}", *options],
        cwd=repo, env=clean_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        raise SystemExit(f"perfci ab failed: {done.stderr.strip()[-500:]}")
    doc = json.loads(done.stdout)
    return latency_verdicts(doc), doc["ab"]


def one_comparison(
    count: int, factors: dict[int, float], options: list[str]
) -> tuple[dict[int, str], dict[str, Any]]:
    """Verdict of each benchmark's latency by its index, and the `ab` section."""
    with tempfile.TemporaryDirectory() as tmp:
        return ab_in(make_repo(Path(tmp), count, factors), Path(tmp) / "ab.db", options)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aa", type=int, default=10)
    parser.add_argument("--ab", type=int, default=4)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument(
        "--sequential", action="store_true", help="perfci ab --sequential: no turns (the peer)"
    )
    parser.add_argument("--max-rounds", type=int, help="perfci ab --max-rounds")
    parser.add_argument("--affinity", metavar="CPUS", help="perfci ab --affinity")
    parser.add_argument(
        "--max-time", type=float, metavar="SECONDS", help="pytest-benchmark's max time a test"
    )
    args = parser.parse_args()
    options = ["--sequential"] if args.sequential else []
    if args.affinity:
        options += ["--affinity", args.affinity]
    if args.max_rounds:
        options += ["--max-rounds", str(args.max_rounds)]
    if args.max_time:
        options += ["--", f"--benchmark-max-time={args.max_time}"]
    count = args.benchmarks
    planted = {i: 1.05 for i in range(PLANTED)} | {i: 1.10 for i in range(PLANTED, 2 * PLANTED)}
    rows = []
    for kind, runs, factors in (("A/A", args.aa, {}), ("A/B", args.ab, planted)):
        false = flagged_runs = found5 = found10 = rounds = 0
        nulls = 0
        started = time.monotonic()
        for _ in range(runs):
            verdicts, ab = one_comparison(count, factors, options)
            rounds += ab["rounds"]
            changed = {i for i, v in verdicts.items() if v in ("regression", "improvement")}
            null = [i for i in verdicts if i not in factors]
            nulls += len(null)
            false += sum(i in changed for i in null)
            flagged_runs += any(i in changed for i in null)
            found5 += sum(verdicts.get(i) == "regression" for i in range(PLANTED) if factors)
            found10 += sum(
                verdicts.get(i) == "regression" for i in range(PLANTED, 2 * PLANTED) if factors
            )
            print(f"{kind}: {len(changed)} flagged, {ab['rounds']} rounds", flush=True)
        wall = (time.monotonic() - started) / max(runs, 1)
        rows.append((kind, runs, nulls, false, flagged_runs, found5, found10, rounds, wall))
    print(
        "\n| comparison | runs of perfci ab | unchanged benchmark-metrics judged | falsely "
        "flagged | comparisons with a false flag | +5% found | +10% found | rounds, mean | "
        "wall time a comparison |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, runs, nulls, false, flagged_runs, found5, found10, rounds, wall in rows:
        f5 = f10 = "—"
        if kind == "A/B":
            f5 = f"{found5}/{runs * PLANTED}"
            f10 = f"{found10}/{runs * PLANTED}"
        print(f"| {kind} | {runs} | {nulls} | {wilson(false, max(nulls, 1))} | "
              f"{flagged_runs}/{runs} | {f5} | {f10} | {rounds / max(runs, 1):.1f} | "
              f"{wall:.0f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
