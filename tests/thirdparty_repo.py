"""A third-party benchmark suite in a git repository of its own, measured commit by commit.

The suite is kornia's pytest-benchmark color benchmarks (plain `benchmark` fixtures, torch on
CPU) with the library functions they time vendored beside them: tests/data/thirdparty/kornia,
see its PROVENANCE.md. `build_history` makes a repository of that tree, commits README-only
edits and one change to the library that slows a single benchmarked function, and measures
every commit several times through the two routes a user has: `perfci run`, and plain
`pytest --benchmark-json` followed by `perfci ingest`. Everything goes through the installed
console scripts, in child processes, with the repository as the working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUITE = Path(__file__).parent / "data" / "thirdparty" / "kornia"
BIN = Path(sys.executable).parent
PERFCI = str(BIN / "perfci")
PYTEST = str(BIN / "pytest")

TARGET = "benchmarks/color"
# kornia's conftest defaults to torch.compile with inductor; the empty value runs eager.
# hypothesis's pytest plugin (in this project's dev environment) costs 0.7 s a process and
# has no part in the suite.
SUITE_ARGS = [TARGET, "--optimizer=", "-p", "no:hypothesispytest"]
# The same rounds as perfci's quick profile, for the plain pytest-benchmark route.
BENCHMARK_ARGS = ["--benchmark-min-rounds=5", "--benchmark-max-time=0.1"]

SLOWED = "test_rgb_to_yuv_benchmark"
SLOWED_FILE = "kornia/color/yuv.py"
# rgb_to_yuv starts clamping its input to the documented range (0, 1) and its output to
# (-1, 1): two extra elementwise passes, and no change in its output for the benchmark's
# torch.rand data. On one thread here that costs +30% to +40% (B=1: 27 us, B=8: 200 us).
PLANT_ANCHOR = """            [0.615, -0.515, -0.100],
        ],
        device=image.device,
        dtype=image.dtype,
    )

    return _apply_linear_transformation(image, kernel)
"""
PLANT = """            [0.615, -0.515, -0.100],
        ],
        device=image.device,
        dtype=image.dtype,
    )

    # Inputs outside (0, 1) give YUV values outside the valid ranges: clamp both sides.
    return _apply_linear_transformation(image.clamp(0.0, 1.0), kernel).clamp_(-1.0, 1.0)
"""

README = """# Kornia (color conversions)

Differentiable color space conversions for PyTorch, with pytest-benchmark microbenchmarks
in `benchmarks/color/`.

Run the benchmarks eagerly on the CPU:

    pytest benchmarks/color --optimizer=
"""

# One entry per commit after the first: the README paragraph it appends, or None for the
# commit that slows SLOWED. 7 commits of 3 runs: 12 runs before the change, the fewest
# perfci's detector judges a change after (MIN_BEFORE), and 9 after it.
README_EDITS = [
    "Installation: `pip install kornia`.",
    "The conversions accept any leading batch dimensions, `(*, 3, H, W)`.",
    "Benchmarks take `--device` and `--dtype` to pick where and how they run.",
    None,  # the slowdown
    "See the documentation for the full list of color spaces.",
    "kornia is released under the Apache License 2.0.",
]
RUNS_PER_COMMIT = 3
ROUTES = ("run", "ingest")


@dataclass
class Call:
    """One child process: its command line, exit status, output and duration."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.args)}\n-> exit {self.returncode} in {self.seconds:.1f}s\n"
            f"--- stdout (tail)\n{self.stdout[-3000:]}\n--- stderr (tail)\n{self.stderr[-3000:]}"
        )


@dataclass
class History:
    repo: Path
    shas: list[str]  # oldest first
    slow: int  # index in shas of the commit that slows SLOWED
    db: dict[str, str]  # route -> SQLAlchemy URL of its store
    calls: dict[str, list[Call]] = field(default_factory=dict)  # route -> its calls
    benchmark_json: dict[str, list[Path]] = field(default_factory=dict)  # sha -> files
    seconds: float = 0.0

    def readme_pairs(self) -> list[tuple[int, int]]:
        """(base, head) indices of README-only commits: one before the slowdown, and one
        whose base history spans it."""
        return [(1, 2), (len(self.shas) - 2, len(self.shas) - 1)]


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a developer's shell: none of this process's CI, pytest, perfci or
    git settings (a GitHub Actions job would otherwise name its own commit), a git that
    reads no user configuration, fixed identities, and torch on one thread."""
    drop = ("GITHUB_", "RUNNER_", "PERFCI_", "PYTEST_", "GIT_", "KORNIA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "CI"}
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Kornia Team",
        GIT_AUTHOR_EMAIL="team@kornia.invalid",
        GIT_COMMITTER_NAME="Kornia Team",
        GIT_COMMITTER_EMAIL="team@kornia.invalid",
        # torch's intra-op pool of 2 threads on a 2-core machine that other jobs share stalls
        # for whole scheduler periods: run medians of a 27 us conversion read 16, 32 or 64 ms
        # in half the runs. One thread is the usual setting for benchmarks in CI.
        OMP_NUM_THREADS="1",
    )
    return env


def call(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> Call:
    start = time.monotonic()
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Call(args, done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    done = call(["git", *args], repo, env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(done.describe())
    return done.stdout.strip()


def commit(repo: Path, env: dict[str, str], index: int, subject: str) -> str:
    stamp = f"2026-01-{index + 1:02d}T12:00:00+00:00"
    dated = {**env, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    git(repo, dated, "add", "-A")
    git(repo, dated, "commit", "-q", "-m", subject)
    return git(repo, env, "rev-parse", "HEAD")


def plant_slowdown(repo: Path) -> None:
    path = repo / SLOWED_FILE
    text = path.read_text()
    if text.count(PLANT_ANCHOR) != 1:
        raise RuntimeError(f"{SLOWED_FILE}: the place for the slowdown is not there once")
    path.write_text(text.replace(PLANT_ANCHOR, PLANT))


def measure(history: History, env: dict[str, str], sha: str, runs: int) -> None:
    """`runs` runs of the checked-out commit through each route, interleaved, so that a
    slow spell of the machine falls on both routes alike."""
    repo = history.repo
    out = repo.parent / "benchmark-json"
    out.mkdir(exist_ok=True)
    for i in range(runs):
        history.calls["run"].append(
            call(
                [PERFCI, "run", "--db", history.db["run"], "--profile", "quick", "--", *SUITE_ARGS],
                repo,
                env,
            )
        )
        path = out / f"{sha[:12]}-{i}.json"
        history.calls["ingest"].append(
            call([PYTEST, f"--benchmark-json={path}", *BENCHMARK_ARGS, *SUITE_ARGS], repo, env)
        )
        history.benchmark_json.setdefault(sha, []).append(path)
        history.calls["ingest"].append(
            call([PERFCI, "ingest", "--db", history.db["ingest"], str(path)], repo, env)
        )


def detect(history: History, route: str, env: dict[str, str]) -> Call:
    args = [PERFCI, "detect", "--db", history.db[route], "--branch", "main", "--format", "json"]
    return call(args, history.repo, env)


def compare(history: History, route: str, env: dict[str, str], base: int, head: int) -> Call:
    args = [PERFCI, "compare", "--db", history.db[route], "--format", "json"]
    args += ["--base", history.shas[base], "--head", history.shas[head]]
    return call(args, history.repo, env)


def build_history(root: Path, runs: int = RUNS_PER_COMMIT) -> History:
    start = time.monotonic()
    repo = root / "kornia"
    home = root / "home"
    home.mkdir(parents=True)
    env = clean_env(home)
    shutil.copytree(SUITE, repo, ignore=shutil.ignore_patterns("__pycache__", "PROVENANCE.md"))
    (repo / "README.md").write_text(README)
    (repo / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n.benchmarks/\n.perfci/\n")
    stores = root / "stores"
    stores.mkdir()
    history = History(
        repo=repo,
        shas=[],
        slow=README_EDITS.index(None) + 1,
        db={r: f"sqlite:///{stores / f'{r}.db'}" for r in ROUTES},
        calls={r: [] for r in ROUTES},
    )
    git(repo, env, "init", "-q", "-b", "main")
    history.shas.append(commit(repo, env, 0, "Color conversions with their benchmarks"))
    measure(history, env, history.shas[-1], runs)
    for index, paragraph in enumerate(README_EDITS, start=1):
        if paragraph is None:
            plant_slowdown(repo)
            subject = "rgb_to_yuv clamps its input and output to their valid ranges"
        else:
            with (repo / "README.md").open("a") as f:
                f.write(f"\n{paragraph}\n")
            subject = f"README: {paragraph.split(':')[0].split('`')[0].strip()}"
        history.shas.append(commit(repo, env, index, subject))
        measure(history, env, history.shas[-1], runs)
    history.seconds = time.monotonic() - start
    return history


def parse_json(done: Call) -> Any:
    """The JSON a command printed; AssertionError with its output when there is none."""
    assert done.returncode == 0, done.describe()
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise AssertionError("not JSON:\n" + done.describe()) from None


def flagged(comparisons: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in comparisons if c.get("verdict") in ("regression", "improvement")]


def brief(rows: Iterable[dict[str, Any]]) -> str:
    """One line per comparison or alert, for assertion messages."""
    keys = ("benchmark", "params", "metric", "verdict", "kind", "ratio", "magnitude", "ci")
    keys += ("noise", "n_base", "n_head", "commit", "note")
    return "\n".join(json.dumps({k: r[k] for k in keys if k in r}) for r in rows) or "(none)"


def _rounds_stats(samples: list[float]) -> tuple[float, float, float]:
    """Median, interquartile range over median, and the share of rounds slower than twice
    the median."""
    ordered = sorted(samples)
    mid = statistics.median(ordered)
    q1, q3 = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    return mid, (q3 - q1) / mid, sum(v > 2 * mid for v in ordered) / len(ordered)


def run_medians(files: Iterable[Path]) -> dict[str, list[float]]:
    """Per benchmark (pytest-benchmark's name), the median of each run: from the plain
    pytest-benchmark route's files."""
    medians: dict[str, list[float]] = {}
    for path in files:
        if not path.exists():
            continue
        for b in json.loads(path.read_text())["benchmarks"]:
            medians.setdefault(b["name"], []).append(b["stats"]["median"])
    return medians


def run_samples(history: History, shas: Iterable[str]) -> dict[str, dict[str, list[list[float]]]]:
    """route -> benchmark -> one list of latency rounds per run, for the given commits:
    from `perfci run`'s results files and pytest-benchmark's (`stats.data`)."""
    wanted = set(shas)
    out: dict[str, dict[str, list[list[float]]]] = {"run": {}, "ingest": {}}
    for path in sorted((history.repo / ".perfci" / "results").glob("run-*.json")):
        doc = json.loads(path.read_text())
        if (doc.get("commit") or {}).get("sha") not in wanted:
            continue
        for b in doc.get("benchmarks", []):
            params = ",".join(f"{k}={b['params'][k]}" for k in sorted(b["params"]) if k in "BH")
            for m in b["metrics"]:
                if m["name"] == "latency" and m["samples"]:
                    key = f"{b['name']}[{params}]"
                    out["run"].setdefault(key, []).append(m["samples"])
    for sha in wanted:
        for path in history.benchmark_json.get(sha, []):
            if path.exists():
                for b in json.loads(path.read_text())["benchmarks"]:
                    params = ",".join(
                        f"{k}={b['params'][k]}" for k in sorted(b["params"]) if k in "BH"
                    )
                    key = f"{b['name'].split('[')[0]}[{params}]"
                    out["ingest"].setdefault(key, []).append(b["stats"]["data"])
    return out


def noise_table(history: History) -> str:
    """The suite's noise before the slowdown, per route and benchmark: run medians
    (max/min across runs), the median within-run IQR/median, the share of rounds slower
    than twice their run's median, and the slowest round against its run's median."""
    lines = []
    samples = run_samples(history, history.shas[: history.slow])
    for route, benchmarks in samples.items():
        lines.append(
            f"route {route}: {len(history.shas[: history.slow])} commits before the slowdown"
        )
        for name, runs in sorted(benchmarks.items()):
            stats = [_rounds_stats(r) for r in runs]
            medians = [s[0] for s in stats]
            worst = max(max(r) / s[0] for r, s in zip(runs, stats, strict=True))
            lines.append(
                f"  {name:44} runs {len(runs)}  median {statistics.median(medians) * 1e6:8.1f} us  "
                f"run medians max/min {spread(medians):5.2f}  within-run IQR/median "
                f"{statistics.median(s[1] for s in stats) * 100:5.1f}%  rounds >2x median "
                f"{statistics.median(s[2] for s in stats) * 100:4.1f}%  slowest round "
                f"{worst:7.1f}x"
            )
    return "\n".join(lines)


def timings(history: History) -> str:
    """Median and total seconds per kind of command."""
    kinds: dict[str, list[float]] = {}
    for calls in history.calls.values():
        for c in calls:
            kind = Path(c.args[0]).name + (
                " " + c.args[1] if Path(c.args[0]).name == "perfci" else ""
            )
            kinds.setdefault(kind, []).append(c.seconds)
    return "\n".join(
        f"  {k:16} {len(v):3} calls  median {statistics.median(v):5.1f}s  total {sum(v):6.1f}s"
        for k, v in sorted(kinds.items())
    )


def spread(values: list[float]) -> float:
    """max/min of a list of positive values, 1.0 for fewer than two."""
    return max(values) / min(values) if len(values) > 1 else 1.0


def median(values: list[float]) -> float:
    return statistics.median(values)
