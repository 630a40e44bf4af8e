"""`perfci bisect` on real pytest processes: a generated repository of COMMITS commits on
main whose kernel does FACTOR times the work from one commit on (the planted commit,
drawn per trial from a seeded generator), nothing measured between the ends; each trial
is one `perfci bisect --good <first> --bad <last>` process with its defaults and the
minimum effect an alert of that size would get (half the change on the log scale).

A trial succeeds when the command names the planted commit (`first bad commit: …`,
exit 0) in at most ⌈log2 n⌉ + 1 steps for the n commits after the good end. The report
gives the rate with its 95% Wilson interval, the steps, and the wall time per bisection.

Run: `python suites/perfci/quality/bisect_real.py [--trials 20] [--commits 20]
[--factor 1.08] [--out bisect_real.md]`; a smoke test: `--trials 1 --commits 4
--factor 3`. `--cpu-time` times benchmarks with time.process_time instead of
pytest-benchmark's default clock.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evaluate_common import wilson

PERFCI = str(Path(sys.executable).parent / "perfci")
SUITE = """from work import kernel


def test_kernel(benchmark):
    benchmark(kernel, 2000)
"""
WORK = "def kernel(n):\n    return sum(i * i for i in range(int(n * {factor})))\n"


@dataclass(frozen=True)
class Trial:
    planted: int  # index of the first slow commit (1 … commits-1)
    found: int | None  # index named, None when the command named none
    steps: int
    skipped: int
    seconds: float
    exit: int
    reason: str
    said: str = ""  # each step: the commit's index, its result and why


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=q@e", "-c", "user.name=q", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def make_repo(root: Path, commits: int, planted: int, factor: float, cpu_time: bool) -> list[str]:
    """The repository's shas, oldest first; commit `planted` makes kernel() slower."""
    (root / "suites").mkdir(parents=True)
    (root / "suites" / "test_work.py").write_text(SUITE)
    timer = " --benchmark-timer=time.process_time" if cpu_time else ""
    (root / "pytest.ini").write_text(f"[pytest]\naddopts = -p no:hypothesispytest{timer}\n")
    _git(root, "init", "-q", "-b", "main")
    shas = []
    for i in range(commits):
        (root / "work.py").write_text(WORK.format(factor=factor if i >= planted else 1))
        (root / "NOTES.md").write_text(f"note {i}\n")
        _git(root, "add", ".")
        _git(root, "commit", "-q", "-m", "slower kernel" if i == planted else f"note {i}")
        shas.append(_git(root, "rev-parse", "HEAD"))
    return shas


def one_trial(commits: int, planted: int, factor: float, cpu_time: bool) -> Trial:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shas = make_repo(repo, commits, planted, factor, cpu_time)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
        effect = math.exp(abs(math.log(factor)) / 2) - 1  # what an alert of this size gets
        started = time.monotonic()
        done = subprocess.run(
            [PERFCI, "bisect", "--good", shas[0], "--bad", shas[-1], "-k", "kernel",
             "--min-effect", f"{effect:.6f}", "--format", "json",
             "--db", f"sqlite:///{Path(tmp) / 'bisect.db'}"],
            cwd=repo, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"perfci bisect failed: {done.stderr.strip()[-500:]}")
    doc = json.loads(done.stdout)
    first = doc["first_bad"]
    results = [s["result"] for s in doc["steps"]]
    return Trial(
        planted,
        shas.index(first["sha"]) if first else None,
        sum(r != "skip" for r in results),
        results.count("skip"),
        seconds,
        done.returncode,
        doc["reason"] or "",
        "; ".join(f"{shas.index(s['commit'])} {s['result']}: {s['reason']}" for s in doc["steps"]),
    )


def report(trials: list[Trial], commits: int, factor: float, cpu_time: bool) -> str:
    bound = math.ceil(math.log2(commits - 1)) + 1 if commits > 2 else 1
    hits = sum(t.found == t.planted and t.steps <= bound for t in trials)
    wrong = sum(t.found is not None and t.found != t.planted for t in trials)
    times = [t.seconds for t in trials]
    clock = "time.process_time" if cpu_time else "pytest-benchmark's default clock"
    lines = [
        f"# perfci bisect on real pytest processes: {commits} commits, ×{factor:g} planted",
        "",
        f"{len(trials)} trials; the planted commit drawn per trial; {clock}; "
        f"bound ⌈log2 {commits - 1}⌉ + 1 = {bound} steps.",
        "",
        "| trials | planted commit named within the bound | wrong commit named | "
        "steps, mean (max) | time per bisection, median (max) |",
        "|---|---|---|---|---|",
        f"| {len(trials)} | {hits}/{len(trials)}, {wilson(hits, len(trials))} | {wrong} | "
        f"{statistics.fmean(t.steps for t in trials):.1f} ({max(t.steps for t in trials)}) | "
        f"{statistics.median(times):.0f} s ({max(times):.0f} s) |",
        "",
        "| trial | planted | named | steps | skipped | exit | seconds | why not found |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, t in enumerate(trials, start=1):
        named = "—" if t.found is None else str(t.found)
        lines.append(
            f"| {number} | {t.planted} | {named} | {t.steps} | {t.skipped} | {t.exit} | "
            f"{t.seconds:.0f} | {t.reason.replace('|', '/')[:160]} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--commits", type=int, default=20)
    parser.add_argument("--factor", type=float, default=1.08)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--cpu-time", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bisect_real.md"))
    args = parser.parse_args()
    if args.commits < 2 or args.trials < 1 or not args.factor > 0:
        parser.error("--commits must be at least 2, --trials at least 1, --factor above 0")
    rng = random.Random(args.seed)
    trials = []
    for number in range(args.trials):
        planted = rng.randrange(1, args.commits)
        trial = one_trial(args.commits, planted, args.factor, args.cpu_time)
        trials.append(trial)
        print(
            f"trial {number + 1}/{args.trials}: planted {planted}, named {trial.found}, "
            f"{trial.steps} steps, {trial.seconds:.0f} s",
            flush=True,
        )
        if trial.found != planted:
            print(f"  {trial.said}", flush=True)
    args.out.write_text(report(trials, args.commits, args.factor, args.cpu_time))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
