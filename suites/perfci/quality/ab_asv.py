"""asv `continuous --interleave-rounds` as the peer of `perfci ab`, on the same repositories
in the same run.

Each comparison makes ab_real's repository (`make_repo`: BENCHMARKS pure-Python
pytest-benchmark tests; A/A: base and head differ in the README only; A/B: +5% more work
in PLANTED benchmarks, +10% in PLANTED others) with, in both commits, the same benchmarks
for asv: `benchmarks/bench_work.py`'s `time_kernel(i)`, parametrised over the same
indices, calling the same `work.kernel(i, n)`, and an `asv.conf.json`. Both tools compare
HEAD~1 with HEAD in that one repository, taking turns on who goes first, pinned to the same
--affinity CPUs (perfci ab's option; taskset for asv and so every process it starts).

What asv (0.6.6) does with each commit, read from its source and its `-v` log: a
`virtualenv` environment (Python 3.11, made once a run by `asv setup` with pip from the
package registry: wheel, pip, build, asv_runner, pympler; kept under one folder for all
comparisons) holds one commit at a time. For every round, for each commit in turn (the
order reversed every other round), asv checks the commit out into the environment's
`project` clone (`git checkout -f`, `git clean -fdx`), runs the uninstall command, the build
command unless the commit's build is cached, and the install command: here no build, and
install copies that commit's `work.py` into the environment's site-packages (the project is
one module, with no packaging), so each commit's own code is what runs. Then each
benchmark parameter runs in a fresh Python process (launch method `spawn`, asv's default)
for one round. `asv continuous` then compares the two commits' results: a benchmark is
changed when the ratio of medians passes --factor and the samples differ (Mann-Whitney U
at p < 0.002 given enough samples, else non-overlapping 99% intervals).

asv's own defaults are kept: rounds 2 (`--asv-rounds` passes `-a rounds=N`); in each round
a warm-up of 0.1 s, then 1 to 5 samples within 10 s (`repeat` (1, 5, 10.0), asv's default
when rounds > 1), each sample `number` calls calibrated to about `sample_time` 0.01 s;
samples recorded. --factor is asv's threshold (default here 1.05, asv's own 1.1, which
cannot flag a +5% change). `--max-time` is pytest-benchmark's max time a test for perfci ab
only, after the quick profile's (asv's per-benchmark time is its defaults above).

Which benchmarks asv calls changed is read from its table (`+` slower, `-` faster, `!`
newly failing), checked against its exit status (1 exactly when one got slower); the
benchmarks it judged are those with a result on both commits in its results files. Run:
`python suites/perfci/quality/ab_asv.py [--aa N] [--ab N] [--benchmarks N] [--affinity
CPUS] [--max-time SECONDS] [--factor F] [--asv-rounds N]`; it prints a Markdown table."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ab_real import ab_in, clean_env, make_repo, sizes
from ab_tally import HEADER, PLANTED_FACTORS, Tally, markdown

from perfci.verdicts import CHANGES

ASV = str(Path(sys.executable).parent / "asv")
MACHINE = "perfci-quality"
BENCHMARK = "bench_work.time_kernel"
ASV_DEFAULT_ROUNDS = 2
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # this one, for asv's virtualenv
# a changed row of asv's table: | + | before | after | ratio | bench_work.time_kernel(3) |
CHANGED_ROW = re.compile(r"^\|\s*([-+!])\s*\|.*\|\s*" + re.escape(BENCHMARK) + r"\((\d+)\)\s*\|$")
SUMMARIES = ("BENCHMARKS NOT SIGNIFICANTLY CHANGED.", "SOME BENCHMARKS HAVE CHANGED SIGNIFICANTLY.")


@dataclass
class Asv:
    """Where asv keeps what outlives a comparison, and how it is run."""

    home: Path  # HOME for asv: its machine file
    envs: Path  # the environment, made once
    pin: list[str]
    options: list[str]  # after `asv continuous`

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.pin, ASV, *args], cwd=cwd, env=clean_env() | {"HOME": str(self.home)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip


def asv_files(count: int, envs: Path, results: Path) -> dict[str, str]:
    """The asv benchmarks and configuration the generated repository holds."""
    conf = {
        "version": 1, "project": "work", "repo": ".", "branches": ["main"],
        "environment_type": "virtualenv", "pythons": [PYTHON],
        "benchmark_dir": "benchmarks", "env_dir": str(envs), "results_dir": str(results),
        "html_dir": str(results.parent / "html"),
        "build_command": [],  # one module, nothing to build
        "install_command": [
            "in-dir={build_dir} python -c \"import shutil, sysconfig; "
            "shutil.copy('work.py', sysconfig.get_paths()['purelib'])\""
        ],
        "uninstall_command": [
            "return-code=any python -c \"import os, sysconfig; "
            "os.remove(os.path.join(sysconfig.get_paths()['purelib'], 'work.py'))\""
        ],
    }  # fmt: skip
    bench = f"""from work import kernel

SIZES = {sizes(count)!r}


def time_kernel(i):
    kernel(i, SIZES[i])


time_kernel.params = list(range(len(SIZES)))
time_kernel.param_names = ["i"]
"""
    return {
        "asv.conf.json": json.dumps(conf, indent=2) + "\n",
        "benchmarks/__init__.py": "",
        "benchmarks/bench_work.py": bench,
    }


def changed_benchmarks(output: str) -> dict[int, str]:
    """asv continuous's changed rows: each benchmark's mark (`+`, `-`, `!`) by index."""
    rows = (CHANGED_ROW.match(line.strip()) for line in output.splitlines())
    return {int(m[2]): m[1] for m in rows if m}


def check_status(done: subprocess.CompletedProcess[str], marks: dict[int, str]) -> None:
    """asv's exit status is 1 exactly when a benchmark got slower (or began failing); an
    error exits 1 too, but prints no summary."""
    worse = any(mark in "+!" for mark in marks.values())
    summary = any(line in done.stdout for line in SUMMARIES)
    if not summary or done.returncode != int(worse):
        tail = (done.stdout + done.stderr).strip()[-1500:]
        raise SystemExit(f"asv continuous: exit {done.returncode}, marks {marks}:\n{tail}")


def _judged(results: Path) -> tuple[set[int], float]:
    """The benchmarks with a result on both commits, and asv's rounds, from its files."""
    measured: list[set[int]] = []
    for path in (results / MACHINE).glob("*.json"):
        if path.name == "machine.json":
            continue
        doc = json.loads(path.read_text())
        values, params = doc["results"][BENCHMARK][:2]
        measured.append({int(p) for p, v in zip(params[0], values, strict=True) if v is not None})
    if len(measured) != 2:
        raise SystemExit(f"asv left {len(measured)} commits' results in {results}, not 2")
    rounds = json.loads((results / "benchmarks.json").read_text())[BENCHMARK]["rounds"]
    return measured[0] & measured[1], float(rounds)


def asv_comparison(asv: Asv, repo: Path, results: Path, tally: Tally) -> None:
    started = time.monotonic()
    done = asv.run(["continuous", *asv.options, "HEAD~1", "HEAD"], repo)
    seconds = time.monotonic() - started
    marks = changed_benchmarks(done.stdout)
    check_status(done, marks)
    judged, rounds = _judged(results)
    slower = {i for i, mark in marks.items() if mark in "+!"}
    tally.add(judged, set(marks), slower, rounds, seconds)
    print(f"{tally.label}: {len(marks)} changed of {len(judged)}; {seconds:.0f} s", flush=True)


def ab_comparison(repo: Path, db: Path, options: list[str], tally: Tally) -> None:
    started = time.monotonic()
    verdicts, ab = ab_in(repo, db, options)
    seconds = time.monotonic() - started
    changed = {i for i, v in verdicts.items() if v in CHANGES}
    regressed = {i for i, v in verdicts.items() if v == "regression"}
    tally.add(verdicts, changed, regressed, ab["rounds"], seconds)
    print(f"{tally.label}: {len(changed)} flagged; {seconds:.0f} s", flush=True)


def both(
    asv: Asv, count: int, factors: dict[int, float], options: list[str],
    tallies: tuple[Tally, Tally], ab_first: bool,
) -> None:  # fmt: skip
    """perfci ab and asv on one repository (asv writes nothing into it), in either order."""
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "asv" / "results"
        repo = make_repo(Path(tmp), count, factors, asv_files(count, asv.envs, results))
        if ab_first:
            ab_comparison(repo, Path(tmp) / "ab.db", options, tallies[0])
        asv_comparison(asv, repo, results, tallies[1])
        if not ab_first:
            ab_comparison(repo, Path(tmp) / "ab.db", options, tallies[0])


def prepare(root: Path, count: int, args: argparse.Namespace) -> Asv:
    """asv's machine file and environment, made once, before anything is timed."""
    options = ["--interleave-rounds", "--factor", str(args.factor), "--machine", MACHINE]
    if args.asv_rounds:
        options += ["-a", f"rounds={args.asv_rounds}"]
    pin = ["taskset", "-c", args.affinity] if args.affinity else []
    asv = Asv(root / "home", root / "envs", pin, options)
    asv.home.mkdir()
    scratch = make_repo(root / "scratch", count, {}, asv_files(count, asv.envs, root / "r"))
    done = asv.run(["machine", "--yes", "--machine", MACHINE], scratch)
    if done.returncode != 0:
        raise SystemExit(f"asv machine failed: {(done.stdout + done.stderr)[-1500:]}")
    # asv setup exits with its list of environments as its status, so 1 when all is well:
    # the environment's interpreter is what tells
    done = asv.run(["setup"], scratch)
    if not list(asv.envs.glob("*/bin/python")):
        raise SystemExit(f"asv setup made no environment: {(done.stdout + done.stderr)[-1500:]}")
    return asv


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--aa", type=int, default=10)
    parser.add_argument("--ab", type=int, default=4)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--affinity", metavar="CPUS", help="both tools' CPUs")
    parser.add_argument(
        "--max-time", type=float, metavar="SECONDS",
        help="pytest-benchmark's max time a test (perfci ab)",
    )  # fmt: skip
    parser.add_argument("--factor", type=float, default=1.05, help="asv continuous --factor")
    parser.add_argument(
        "--asv-rounds", type=int, help=f"asv's rounds (its default {ASV_DEFAULT_ROUNDS})"
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    options = ["--affinity", args.affinity] if args.affinity else []
    if args.max_time:
        options += ["--", f"--benchmark-max-time={args.max_time}"]
    rows: list[Tally] = []
    with tempfile.TemporaryDirectory() as tmp:
        asv = prepare(Path(tmp), args.benchmarks, args)
        for kind, runs, factors in (("A/A", args.aa, {}), ("A/B", args.ab, PLANTED_FACTORS)):
            ours = Tally(f"perfci ab ({kind})", planted=bool(factors))
            theirs = Tally(f"asv ({kind})", planted=bool(factors))
            for k in range(runs):
                # who goes first alternates, so neither always meets the machine as the
                # other left it
                both(asv, args.benchmarks, factors, options, (ours, theirs), k % 2 == 0)
            rows += [ours, theirs]
    rounds = args.asv_rounds or f"{ASV_DEFAULT_ROUNDS} (its default)"
    print(f"\n{args.benchmarks} benchmarks, affinity {args.affinity or 'none'}; asv continuous "
          f"--interleave-rounds --factor {args.factor}, rounds {rounds}\n")  # fmt: skip
    print(markdown(HEADER, [t.cells() for t in rows]))


if __name__ == "__main__":
    main()
