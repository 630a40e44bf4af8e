"""A/A under drift: `perfci ab` against history mode when the machine changes mid-way.

The repository is ab_real's (`make_repo`): BENCHMARKS plain pytest-benchmark tests, base
and head differing in the README only, so every flag is a false alarm. Halfway through a
comparison a bounded background load starts (`ab_load.py`: a loopback TCP client and
server on 127.0.0.1 hashing what they move, for --load-seconds, then gone; by default on
the measurement's CPUs, so it slows the measured processes), and its report says that it
ran, when, and how many bytes it moved. Each comparison index runs, each on a fresh repo:

- paired A/B without load: one `perfci ab --base HEAD~1` with its defaults, as ab_real;
- paired A/B with drift: the same, the load starting --load-after seconds in (default:
  half the wall time of the comparison before it);
- history mode with drift: what perf-pr did before `perfci ab`: the base commit measured
  in --runs separate `perfci run` processes (from a git worktree of it, so the plugin
  reads its commit from git) into a SQLite store, then the head in as many, the load
  starting as the head's runs start (the base's were stored earlier, before the machine
  changed), then `perfci compare --base <base> --head <head> --format json`;
- history mode without load.

`--affinity` pins every measured process (perfci ab's own option; taskset for perfci run),
`--max-time` is pytest-benchmark's max time a test after the quick profile's, as in
ab_real. Run: `python suites/perfci/quality/ab_drift.py [--comparisons N] [--benchmarks N]
[--affinity CPUS] [--max-time SECONDS] [--runs K] [--load-after SECONDS] [--load-seconds
SECONDS] [--load-cpus CPUS|any]`; it prints a Markdown table."""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from ab_load import Load, LoadReport, background_load
from ab_real import PERFCI, ab_in, clean_env, latency_verdicts, make_repo
from ab_tally import HEADER, Tally, markdown

from perfci.verdicts import CHANGES


@dataclass
class Settings:
    count: int
    runs: int
    affinity: str | None
    pytest_args: list[str]  # after `--`
    load_seconds: float
    load_cpus: str | None


@dataclass
class Row:
    tally: Tally
    loads: list[LoadReport] = field(default_factory=list)


@dataclass
class Outcome:
    verdicts: dict[int, str]
    rounds: float
    seconds: float
    load: LoadReport | None


def _loaded(
    settings: Settings, after: float | None, origin: float
) -> AbstractContextManager[Load | None]:
    """The background load from `after` seconds on, its times from `origin`, or none
    (`after` None)."""
    if after is None:
        return contextlib.nullcontext()
    return background_load(after, settings.load_seconds, settings.load_cpus, origin)


@contextlib.contextmanager
def _fresh_repo(settings: Settings) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield make_repo(Path(tmp), settings.count, {})


def paired(settings: Settings, after: float | None) -> Outcome:
    """One `perfci ab` comparison, the load (if any) from `after` seconds in."""
    options = ["--affinity", settings.affinity] if settings.affinity else []
    if settings.pytest_args:
        options += ["--", *settings.pytest_args]
    with _fresh_repo(settings) as repo:
        started, origin = time.monotonic(), time.time()
        with _loaded(settings, after, origin) as load:
            verdicts, ab = ab_in(repo, repo.parent / "ab.db", options)
        seconds = time.monotonic() - started
    return Outcome(verdicts, ab["rounds"], seconds, load.report if load else None)


def _perfci(args: list[str], cwd: Path, pin: list[str]) -> str:
    done = subprocess.run(
        [*pin, PERFCI, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"perfci {args[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def history(settings: Settings, loaded: bool) -> Outcome:
    """Base then head in `runs` `perfci run` processes each, then `perfci compare`; the
    load (if `loaded`) from when the head's runs start."""
    pin = ["taskset", "-c", settings.affinity] if settings.affinity else []
    with _fresh_repo(settings) as repo:
        base, head = _git(repo, "rev-parse", "HEAD~1"), _git(repo, "rev-parse", "HEAD")
        base_tree = repo.parent / "base"
        _git(repo, "worktree", "add", "--detach", str(base_tree), base)
        db = ["--db", f"sqlite:///{repo.parent / 'history.db'}"]

        def measure(tree: Path) -> None:
            _perfci(["run", *db, "--", *settings.pytest_args], tree, pin)

        started, origin = time.monotonic(), time.time()
        for _ in range(settings.runs):
            measure(base_tree)
        with _loaded(settings, 0.0 if loaded else None, origin) as load:
            for _ in range(settings.runs):
                measure(repo)
        doc = json.loads(
            _perfci(["compare", "--base", base, "--head", head, "--format", "json", *db], repo, [])
        )
        seconds = time.monotonic() - started
    return Outcome(latency_verdicts(doc), settings.runs, seconds, load.report if load else None)


def _record(row: Row, outcome: Outcome) -> None:
    changed = {i for i, v in outcome.verdicts.items() if v in CHANGES}
    regressed = {i for i, v in outcome.verdicts.items() if v == "regression"}
    row.tally.add(outcome.verdicts, changed, regressed, outcome.rounds, outcome.seconds)
    if outcome.load:
        row.loads.append(outcome.load)
    kinds = ", ".join(f"{n} {v}" for v, n in sorted(Counter(outcome.verdicts.values()).items()))
    print(f"{row.tally.label}: {kinds}; {outcome.seconds:.0f} s", flush=True)


def _load_cell(loads: list[LoadReport]) -> str:
    """Whether the load ran in each comparison, when (s from its start) and bytes moved."""
    if not loads:
        return "—"
    ran = [r for r in loads if r.ran]
    if not ran:
        return f"ran in 0/{len(loads)}"
    span = f"{min(r.start for r in ran):.0f}-{max(r.stop for r in ran):.0f} s"
    moved = sum(r.moved for r in ran) / len(ran) / 2**30
    return f"ran in {len(ran)}/{len(loads)}, within {span}, {moved:.1f} GiB each"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comparisons", type=int, default=5, help="comparisons a row")
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--affinity", metavar="CPUS", help="the measured processes' CPUs")
    parser.add_argument(
        "--max-time", type=float, metavar="SECONDS", help="pytest-benchmark's max time a test"
    )
    parser.add_argument("--runs", type=int, default=3, help="history mode's runs a side")
    parser.add_argument(
        "--load-after", type=float, metavar="SECONDS",
        help="the load's start in a paired comparison (default: half the previous one's time)",
    )  # fmt: skip
    parser.add_argument("--load-seconds", type=float, default=30.0, help="how long the load runs")
    parser.add_argument(
        "--load-cpus", metavar="CPUS",
        help="the load's CPUs (default: --affinity's; any: wherever the OS puts it)",
    )  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    load_cpus = args.affinity if args.load_cpus is None else args.load_cpus
    settings = Settings(
        count=args.benchmarks, runs=args.runs, affinity=args.affinity,
        pytest_args=[f"--benchmark-max-time={args.max_time}"] if args.max_time else [],
        load_seconds=args.load_seconds, load_cpus=None if load_cpus == "any" else load_cpus,
    )  # fmt: skip
    rows = {
        name: Row(Tally(name, planted=False))
        for name in ("paired A/B, no load", "paired A/B, drift", "history mode, drift",
                     "history mode, no load")
    }  # fmt: skip
    for _ in range(args.comparisons):
        quiet = paired(settings, None)
        _record(rows["paired A/B, no load"], quiet)
        after = quiet.seconds / 2 if args.load_after is None else args.load_after
        _record(rows["paired A/B, drift"], paired(settings, after))
        _record(rows["history mode, drift"], history(settings, loaded=True))
        _record(rows["history mode, no load"], history(settings, loaded=False))
    header = [name for name in HEADER if "found" not in name] + ["load"]
    table = [r.tally.cells() | {"load": _load_cell(r.loads)} for r in rows.values()]
    print(f"\nA/A, {args.benchmarks} benchmarks, affinity {args.affinity or 'none'}, load on "
          f"{load_cpus or 'any CPU'} for {args.load_seconds:.0f} s; history mode's rounds are "
          f"its runs a side\n")  # fmt: skip
    print(markdown(header, table))


if __name__ == "__main__":
    main()
