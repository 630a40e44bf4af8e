"""perfci measures itself: the dashboard's full build and one-run rebuild at scale, against
`asv publish` of the same data (converted to asv's results format) as the peer.

The store holds COMMITS first-parent commits x BENCHMARKS benchmarks x 3 metrics, written
with bulk inserts; the same commits exist in a git repository (made with git fast-import)
because asv reads commit order and dates from git. The full profile is the target volume
(2,000 x 300 x 3); run it with `--benchmark-min-rounds=1 --perfci-warmup=0`, a build
there takes seconds.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from perfci.dashboard import build_site, naming
from perfci.environment import EnvironmentInfo, MachineInfo
from perfci.results import BenchmarkResult, CommitInfo, Metric, RunInfo, RunResult
from perfci.store import Store, open_store
from perfci.store.ingest import benchmark_key, ingest_runs

BENCHMARKS = {60: 30, 2000: 300}  # per commit count: quick and full profiles
METRICS = (
    ("latency", "s", "lower"),
    ("throughput", "items/s", "higher"),
    ("peak_memory", "bytes", "lower"),
)
START = datetime(2024, 1, 1)
MACHINE = MachineInfo(
    name="scale-mini",
    chip="Apple M4 Pro",
    model="Mac16,11",
    cpu_cores=14,
    performance_cores=10,
    efficiency_cores=4,
    gpu_cores=20,
    memory_bytes=64 * 2**30,
    hardware_arch="arm64",
).as_dict()
ENVIRONMENT = EnvironmentInfo(
    os="macOS",
    os_version="15.5",
    python_version="3.12.9",
    python_arch="arm64",
    rosetta=False,
    packages={"mlx": "0.26.1", "torch": "2.7.1"},
).as_dict()


def _bench(i: int) -> tuple[str, str, dict[str, object]]:
    return (
        f"suites/{('mlx', 'torch', 'coreml')[i % 3]}/test_models",
        f"test_model_{i // 6}",
        {"backend": ("mlx", "torch", "coreml")[i % 3], "batch": (1, 8)[(i // 3) % 2]},
    )


def _value(metric: int, bench: int, commit: int) -> float:
    base = (1e-3 * (1 + bench % 7), 1e3 * (1 + bench % 5), 2.0**20 * (1 + bench % 9))[metric]
    step = 1.1 if commit > 1000 and bench % 10 == 0 else 1.0  # some series regress
    return base * step * (1 + 0.02 * math.sin(commit * 0.7 + bench))


def _git_history(repo: Path, commits: int) -> list[str]:
    """A repository of `commits` empty first-parent commits on main; their shas, oldest first."""
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = []
    for i in range(commits):
        when = int((START + timedelta(hours=6 * i)).timestamp())
        message = f"Change {i}".encode()
        stream.append(f"commit refs/heads/main\nmark :{i + 1}\n")
        stream.append(f"committer Dev <dev@example.com> {when} +0000\ndata {len(message)}\n")
        stream.append(message.decode() + "\n" + (f"from :{i}\n" if i else "") + "\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo, input="".join(stream).encode(), check=True
    )
    log = subprocess.run(
        ["git", "rev-list", "--reverse", "main"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return log.stdout.split()


def _fill_store(store: Store, shas: list[str], benchmarks: int) -> None:
    """Bulk rows straight into the store's tables (ingesting 2,000 files would take minutes)."""
    ingest_runs(store, [_run(shas[0], None, 0, benchmarks, "seed")])  # machine, env, benchmarks
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        bench_ids = dict(cur.execute("SELECT key, id FROM benchmarks").fetchall())
        ids = [bench_ids[benchmark_key(*_bench(b))] for b in range(benchmarks)]
        machine_id, env_id = cur.execute("SELECT machine_id, environment_id FROM runs").fetchone()
        for i, sha in enumerate(shas[1:], start=1):
            when = (START + timedelta(hours=6 * i)).strftime(fmt)
            cur.execute(
                "INSERT INTO commits (sha, branch, author_time, subject) VALUES (?, 'main', ?, ?)",
                (sha, when, f"Change {i}"),
            )
            commit_id = cur.lastrowid
            cur.execute("INSERT INTO commit_parents VALUES (?, 0, ?)", (commit_id, shas[i - 1]))
            cur.execute(
                "INSERT INTO runs (run_key, commit_id, machine_id, environment_id, source, status,"
                " profile, trigger, started_at, finished_at, ingested_at) VALUES"
                " (?, ?, ?, ?, 'perfci', 'passed', 'full', 'push', ?, ?, ?)",
                (f"scale-{i}", commit_id, machine_id, env_id, when, when, when),
            )
            run_id = cur.lastrowid
            cur.executemany(
                "INSERT INTO measurements (run_id, benchmark_id, metric, unit, direction, n,"
                " median, mean, stddev, min, max, q1, q3) VALUES"
                " (?, ?, ?, ?, ?, 20, ?, ?, 0, ?, ?, ?, ?)",
                [
                    (run_id, ids[b], name, unit, way, v, v, v * 0.97, v * 1.03, v * 0.99, v * 1.01)
                    for b in range(benchmarks)
                    for m, (name, unit, way) in enumerate(METRICS)
                    for v in (_value(m, b, i),)
                ],
            )
        cur.execute("COMMIT")
    finally:
        raw.close()


def _run(sha: str, parent: str | None, i: int, benchmarks: int, key: str) -> RunResult:
    when = (START + timedelta(hours=6 * i)).isoformat() + "+00:00"
    rng = random.Random(i)
    return RunResult(
        run=RunInfo(run_id=key, started_at=when, finished_at=when, trigger="push"),
        commit=CommitInfo(
            sha=sha, parents=(parent,) if parent else (), branch="main", subject=f"Change {i}"
        ),
        machine=MACHINE,
        environment=ENVIRONMENT,
        benchmarks=tuple(
            BenchmarkResult(
                *_bench(b),
                metrics=tuple(
                    Metric(
                        name,
                        unit,
                        way,
                        tuple(_value(m, b, i) * rng.uniform(0.98, 1.02) for _ in range(20)),
                    )
                    for m, (name, unit, way) in enumerate(METRICS)
                ),
            )
            for b in range(benchmarks)
        ),
    )


def _asv_results(root: Path, repo: Path, shas: list[str], benchmarks: int) -> Path:
    """The same volume in asv's results format: one file per commit, one asv benchmark per
    perfci benchmark and metric (asv keeps one value, with quartiles, per benchmark)."""
    kinds = {"s": ("time", "seconds"), "items/s": ("track", "items/s"), "bytes": ("mem", "bytes")}
    names = {
        (b, m): f"{_bench(b)[0].replace('/', '_')}.{_bench(b)[1]}_b{b}.{kinds[unit][0]}_{name}"
        for b in range(benchmarks)
        for m, (name, unit, _) in enumerate(METRICS)
    }
    results = root / "results"
    (results / "scale-mini").mkdir(parents=True)
    described = {
        n: {
            "name": n,
            "type": kinds[METRICS[m][1]][0].replace("mem", "memory"),
            "code": "",
            "unit": kinds[METRICS[m][1]][1],
            "params": [],
            "param_names": [],
            "version": "1",
            "timeout": 60,
        }
        for (_, m), n in names.items()
    }
    (results / "benchmarks.json").write_text(json.dumps(described | {"version": 2}))
    machine = {
        "machine": "scale-mini",
        "os": "macOS",
        "arch": "arm64",
        "cpu": "Apple M4 Pro",
        "num_cpu": "14",
        "ram": "64GB",
        "version": 1,
    }
    (results / "scale-mini" / "machine.json").write_text(json.dumps(machine))
    columns = [
        "result",
        "params",
        "version",
        "started_at",
        "duration",
        "stats_ci_99_a",
        "stats_ci_99_b",
        "stats_q_25",
        "stats_q_75",
    ]
    for i, sha in enumerate(shas):
        stamp = int((START + timedelta(hours=6 * i)).timestamp() * 1000)
        rows = {}
        for (b, m), name in names.items():
            v = _value(m, b, i)
            rows[name] = [[v], [], "1", stamp, 1.0, [v * 0.98], [v * 1.02], [v * 0.99], [v * 1.01]]
        data = {
            "commit_hash": sha,
            "env_name": "existing-py",
            "date": stamp,
            "params": {"machine": "scale-mini", "python": "3.12"},
            "python": "3.12",
            "requirements": {},
            "env_vars": {},
            "result_columns": columns,
            "results": rows,
            "durations": {},
            "version": 2,
        }
        (results / "scale-mini" / f"{sha[:8]}-existing-py.json").write_text(json.dumps(data))
    conf = {
        "version": 1,
        "project": "scale",
        "project_url": "https://example.invalid/",
        "repo": str(repo),
        "dvcs": "git",
        "branches": ["main"],
        "results_dir": "results",
        "html_dir": "html",
        "environment_type": "existing",
    }
    (root / "asv.conf.json").write_text(json.dumps(conf))
    return root


_DATA: dict[int, tuple[Path, list[str]]] = {}


def _data(tmp_path_factory: pytest.TempPathFactory, commits: int) -> tuple[Path, list[str]]:
    """One store and git history per size, shared by the benchmarks of this module."""
    if commits not in _DATA:
        root = tmp_path_factory.mktemp(f"scale-{commits}")
        shas = _git_history(root / "repo", commits)
        store = open_store(f"sqlite:///{root / 'perfci.db'}")
        _fill_store(store, shas, BENCHMARKS[commits])
        store.close()
        _DATA[commits] = (root, shas)
    return _DATA[commits]


@pytest.mark.perf_sizes("commits", quick=[60], full=[2000])
def test_dashboard_full_build(perf, tmp_path_factory, commits: int) -> None:
    """Every page from an empty folder: overview, one page per benchmark group, runs."""
    root, _ = _data(tmp_path_factory, commits)
    store = open_store(f"sqlite:///{root / 'perfci.db'}", upgrade=False)
    counter = itertools.count()

    def build() -> Path:
        out = root / f"site-{next(counter)}"
        build_site(store, out)
        return out

    def check(out: Path) -> None:
        pages = len(list((out / "b").glob("*.html")))
        assert pages == BENCHMARKS[commits] // 2  # two batch sizes share a page
        overview = (out / "index.html").stat().st_size
        largest = max(p.stat().st_size for p in (out / "b").glob("*.html"))
        print(f"\noverview {overview / 1e6:.3f} MB; largest benchmark page {largest / 1e6:.2f} MB")
        assert overview < 1_000_000

    perf(build, items=commits * BENCHMARKS[commits] * len(METRICS), unit="points", check=check)
    store.close()


@pytest.mark.perf_sizes("commits", quick=[60], full=[2000])
def test_dashboard_one_run_rebuild(perf, tmp_path_factory, commits: int) -> None:
    """Ingest one new run (every benchmark, raw samples) and rebuild the existing site."""
    root, shas = _data(tmp_path_factory, commits)
    store = open_store(f"sqlite:///{root / 'perfci.db'}")
    out = root / "site-incremental"
    build_site(store, out)
    counter = itertools.count(len(shas))
    parent = [shas[-1]]

    def one_run() -> tuple[str, ...]:
        i = next(counter)
        sha = f"{i:040x}"
        ingest_runs(store, [_run(sha, parent[0], i, BENCHMARKS[commits], f"new-{i}")])
        parent[0] = sha
        report = build_site(store, out)
        return report.written

    def check(written: tuple[str, ...]) -> None:
        # every page's header and its newest chunk (each has a new point), overview, runs,
        # machines, backends side by side (the newest run's); no older chunk, no asset
        pages = [p for p in written if p.startswith("b/")]
        chunks = [p for p in written if p.startswith("d/")]
        assert len(pages) == len(chunks) == BENCHMARKS[commits] // 2
        newest = max(int(p.rsplit("-", 2)[1]) for p in chunks)
        assert all(int(p.rsplit("-", 2)[1]) == newest for p in chunks)
        rest = set(written) - set(pages) - set(chunks)
        assert sorted(rest) == ["backends.html", "index.html", "machines.html", "runs.html"]
        print(f"\nrewrote {len(written)} files")

    perf(one_run, check=check)
    store.close()


@pytest.mark.perf_sizes("commits", quick=[60], full=[2000])
def test_asv_publish_peer(perf, tmp_path_factory, commits: int) -> None:
    """The peer: `asv publish` of the same commits, benchmarks and metrics."""
    pytest.importorskip("asv", reason="asv is the peer; it installs with perfci's dev extra")
    root, shas = _data(tmp_path_factory, commits)
    project = root / "asv"
    if not project.exists():
        _asv_results(project, root / "repo", shas, BENCHMARKS[commits])
    asv = [sys.executable, "-m", "asv", "publish", "--no-pull", "--config", "asv.conf.json"]

    def publish() -> subprocess.CompletedProcess[str]:
        shutil.rmtree(project / "html", ignore_errors=True)
        return subprocess.run(asv, cwd=project, capture_output=True, text=True, check=False)

    def check(done: subprocess.CompletedProcess[str]) -> None:
        assert done.returncode == 0, done.stdout + done.stderr
        graphs = list((project / "html" / "graphs").rglob("*.json"))
        assert len(graphs) >= BENCHMARKS[commits] * len(METRICS)

    perf(publish, items=commits * BENCHMARKS[commits] * len(METRICS), unit="points", check=check)


@pytest.mark.perf_sizes("commits", quick=[60], full=[2000])
@pytest.mark.parametrize("page", ["overview", "benchmark", "runs"])
def test_dashboard_page_interactive(perf, tmp_path_factory, commits: int, page: str) -> None:
    """From navigation to charts drawn and handlers attached, in Debian's headless Chromium,
    for the overview, the first benchmark page (each holds COMMITS points per chart) and
    the runs page (the newest runs, one row each)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra")
    root, _ = _data(tmp_path_factory, commits)
    out = root / "site-browser"
    if not out.exists():
        store = open_store(f"sqlite:///{root / 'perfci.db'}", upgrade=False)
        build_site(store, out)
        store.close()
    with sqlite3.connect(root / "perfci.db") as db:  # the rebuild benchmark adds runs
        (runs,) = db.execute("SELECT count(*) FROM runs").fetchone()
    targets = {"overview": out / "index.html", "runs": out / "runs.html"}
    target = targets.get(page) or min((out / "b").glob("*.html"))
    ready = "document.documentElement.dataset.chartsReady === '1'"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})

        def load() -> int:
            tab.goto(target.as_uri())
            if page == "benchmark":
                tab.wait_for_function(ready)
            elif page == "overview":
                tab.wait_for_selector("#shown:not(:empty)")
            if page == "runs":
                return int(tab.evaluate("document.querySelectorAll('table.runs tbody tr').length"))
            return int(tab.evaluate("Object.keys(window.perfciCharts || {}).length"))

        def check(count: int) -> None:
            newest = min(runs, naming.RUNS_PER_PAGE)  # older runs are on their own pages
            expected = {"overview": 0, "benchmark": 2 * len(METRICS), "runs": newest}
            assert count == expected[page]

        perf(load, check=check)
        browser.close()
