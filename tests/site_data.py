"""A store for the dashboard's tests: two machines, a torch upgrade, alerts, a pull request,
a re-run of an old commit stored last, a feature branch's run, a variant that is always
skipped, an error, and hostile strings in commit subjects, benchmark names, parameters and
skip reasons."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from factories import ENVIRONMENT, MACHINE, benchmark, run, sha
from sqlalchemy import select
from sqlalchemy.orm import Session

from perfci.results import Outcome, RunResult
from perfci.store import Store
from perfci.store.ingest import benchmark_key, ingest_runs
from perfci.store.models import Alert, Benchmark, Commit, Machine

EVIL = "<script>window.__pwned=1</script>\"'&<img src=x onerror=window.__pwned=2>"
EVIL_SUITE = "suites/torch/" + EVIL
EVIL_PARAMS = {"backend": "torch", "device": "mps", "note": EVIL}
GEMM = "suites/mlx/test_gemm"
VARIANTS = (
    {"backend": "mlx", "n": 512, "dtype": "float32"},
    {"backend": "mlx", "n": 512, "dtype": "float16"},
)
COMMITS = 24
UPGRADE_AT = 12  # torch 2.7.1 → 2.8.0 on mini-1 from this commit on
SLOWER_AT = 18  # the float32 variant gets 20% slower here
MACHINE_2 = dataclasses.replace(MACHINE, name="mini-2", chip="Apple M2", gpu_cores=10)
UPGRADED = dataclasses.replace(ENVIRONMENT, packages={**ENVIRONMENT.packages, "torch": "2.8.0"})
PR_NUMBER = 7
SKIPPED = {"backend": "coreml", "n": 512, "dtype": "float16"}  # skipped in every run
SKIP_REASON = "Core ML prediction needs coremltools 8: " + EVIL
FAILED_AT = 20  # the float16 variant fails on mini-2 at this commit
ERROR_REASON = "RuntimeError: MPS backend out of memory " + EVIL
RERUN_OF = 5  # mini-1 measures this commit again, after every other run was stored
FEATURE = "feature/faster-gemm"  # a branch off commit 20, measured by a manual run


@dataclass(frozen=True)
class Seeded:
    shas: list[str]  # main's first-parent chain, oldest first
    trend_runs: int  # runs of main's commits outside pull requests
    runs_per_machine: dict[str, int]
    rerun_id: int  # the newest stored run of main: a re-run of shas[RERUN_OF]


def _gemm(i: int, seed: int, failed: bool = False) -> tuple[Any, tuple[Outcome, ...]]:
    slow = 1.2 if i >= SLOWER_AT else 1.0
    benches = (
        benchmark(suite=GEMM, params=VARIANTS[0], latency=1e-3 * slow, seed=seed),
        *(
            []
            if failed
            else [benchmark(suite=GEMM, params=VARIANTS[1], latency=6e-4, seed=seed + 100)]
        ),
        benchmark(suite=EVIL_SUITE, name=EVIL, params=EVIL_PARAMS, latency=2e-3, seed=seed),
    )
    outcomes = [Outcome(GEMM, "test_gemm", SKIPPED, "skipped", SKIP_REASON)]
    if failed:
        outcomes.append(Outcome(GEMM, "test_gemm", VARIANTS[1], "error", ERROR_REASON))
    return benches, tuple(outcomes)


def _results() -> list[RunResult]:
    out = []
    parents: tuple[str, ...] = ()
    for i in range(COMMITS):
        commit = sha(f"commit-{i}")
        for machine in (MACHINE, MACHINE_2):
            if machine is MACHINE_2 and i % 2:
                continue  # the second machine measures every other commit
            env = UPGRADED if machine is MACHINE and i >= UPGRADE_AT else ENVIRONMENT
            failed = machine is MACHINE_2 and i == FAILED_AT
            benches, outcomes = _gemm(i, i, failed)
            when = f"2026-10-{1 + i:02d}T{10 if machine is MACHINE else 11}:00:00+00:00"
            result = run(
                commit=commit,
                parents=parents,
                benchmarks=benches,
                outcomes=outcomes,
                started_at=when,
                machine=machine,
                environment=env,
                subject=f"Change {i}: {EVIL}",
            )
            ci = "https://ci.example/run/1" if i % 3 else "javascript:alert(1)"
            out.append(dataclasses.replace(result, run=dataclasses.replace(result.run, ci_url=ci)))
        parents = (commit,)
    head = run(
        commit=sha("pr-head"),
        parents=parents,
        benchmarks=(benchmark(suite=GEMM, params=VARIANTS[0], latency=3e-3, seed=7),),
        started_at="2026-10-28T10:00:00+00:00",
        environment=UPGRADED,
        subject=f"PR: {EVIL}",
    )
    pr_run = dataclasses.replace(head.run, trigger="pull_request", pr_number=PR_NUMBER)
    out.append(dataclasses.replace(head, run=pr_run))
    benches, outcomes = _gemm(20, 300)
    feature = run(
        commit=sha("feature-1"),
        parents=(sha("commit-20"),),
        benchmarks=benches,
        outcomes=outcomes,
        started_at="2026-10-28T12:00:00+00:00",
        environment=UPGRADED,
        subject=f"Feature: {EVIL}",
    )
    out.append(
        dataclasses.replace(feature, commit=dataclasses.replace(feature.commit, branch=FEATURE))
    )
    return out


def _rerun() -> RunResult:
    """mini-1 measures an old commit of main again, in today's environment, stored last."""
    benches, outcomes = _gemm(RERUN_OF, 200)
    return run(
        commit=sha(f"commit-{RERUN_OF}"),
        parents=(sha(f"commit-{RERUN_OF - 1}"),),
        benchmarks=benches,
        outcomes=outcomes,
        started_at="2026-10-29T09:00:00+00:00",
        environment=UPGRADED,
        subject=f"Change {RERUN_OF}: {EVIL}",
    )


def seed(store: Store) -> Seeded:
    ingest_runs(store, _results())
    (rerun,) = ingest_runs(store, [_rerun()])
    add_alert(store, VARIANTS[0], SLOWER_AT, "regression", 1.2, "open")
    add_alert(store, VARIANTS[1], 3, "improvement", 0.9, "acknowledged")
    shas = [sha(f"commit-{i}") for i in range(COMMITS)]
    mini2 = (COMMITS + 1) // 2
    runs = {"mini-1": COMMITS + 1, "mini-2": mini2}
    return Seeded(shas, COMMITS + mini2 + 1, runs, rerun.run_id)


def add_alert(
    store: Store,
    params: dict[str, object],
    commit: int,
    kind: str,
    magnitude: float,
    status: str,
    drift_since: int | None = None,
) -> None:
    """An alert as the history detector will store it: through the models; with
    `drift_since`, a drift from that commit on."""
    with Session(store.engine) as session:
        bench = session.scalars(
            select(Benchmark).where(Benchmark.key == benchmark_key(GEMM, "test_gemm", params))
        ).one()
        machine = session.scalars(select(Machine).where(Machine.name == "mini-1")).one()
        first = session.scalars(select(Commit).where(Commit.sha == sha(f"commit-{commit}"))).one()
        since = None
        if drift_since is not None:
            since = session.scalars(
                select(Commit).where(Commit.sha == sha(f"commit-{drift_since}"))
            ).one()
        session.add(
            Alert(
                benchmark_id=bench.id,
                machine_id=machine.id,
                metric="latency",
                commit_id=first.id,
                last_good_commit_id=since.id if since else None,
                shape="step" if since is None else "drift",
                kind=kind,
                magnitude=magnitude,
                status=status,
                reason=EVIL if status == "acknowledged" else None,
                detected_at=datetime(2026, 10, 20),
            )
        )
        session.commit()


def page_data(out: Path, page: str) -> dict[str, Any]:
    """A benchmark page's data as its script assembles it: header JSON plus history chunks
    (each chunk script is `perfciChunk(<JSON>);`), one x per commit that has a point.
    `commits[x]` is [sha, subject, date, runs], each run [id, machine index, stored at]; a
    chart's series per machine has median, q1 and q3 per x and `runs` {x: [[run id,
    median, q1, q3], ...]} where the values at x are not from the machine's only run."""
    html = (out / page).read_text()
    header = json.loads(re.search(r'id="perfci-page">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    chunks = []
    for path in header["chunks"]:
        text = (out / path).read_text()
        assert text.startswith("perfciChunk(") and text.endswith(");\n"), path
        chunks.append(json.loads(text[len("perfciChunk(") : -3]))
    at = {int(p): c for chunk in chunks for p, c in chunk["commits"].items()}
    positions = sorted(at)
    x = {p: i for i, p in enumerate(positions)}
    machine_ids = list(header["machines"])
    commits = [
        [*at[p][:3], [[r[0], machine_ids.index(str(r[1])), r[2]] for r in at[p][3]]]
        for p in positions
    ]
    n = len(commits)
    for variant in header["variants"]:
        for chart in variant["charts"]:
            series: dict[str, dict[str, Any]] = {}
            for c in chunks:
                for m, values in c["charts"].get(chart["id"], {}).items():
                    med, q1, q3 = values[:3]
                    more = values[3] if len(values) > 3 else {}
                    s = series.setdefault(
                        m,
                        {"machine": machine_ids.index(m), "runs": {}}
                        | {k: [None] * n for k in ("median", "q1", "q3")},
                    )
                    for i, v in enumerate(med):
                        if v is not None:
                            k = x[c["start"] + i]
                            s["median"][k], s["q1"][k], s["q3"][k] = v, q1[i], q3[i]
                            if str(i) in more:
                                s["runs"][k] = more[str(i)]
            chart["series"] = [series[m] for m in sorted(series, key=int)]
            for e in chart["events"]:
                if e["x"] is not None:
                    e["x"] = next((i for i, p in enumerate(positions) if p >= e["x"]), None)
    return {
        "commits": commits,
        "machines": [header["machines"][m] for m in machine_ids],
        "variants": header["variants"],
    }


def run_values(chart: dict[str, Any], data: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    """Every run's value on a chart as `page_data` gives it: (machine, sha) → values."""
    out: dict[tuple[str, str], list[float]] = {}
    for s in chart["series"]:
        machine = data["machines"][s["machine"]]
        for x, v in enumerate(s["median"]):
            if v is None:
                continue
            runs = s["runs"].get(x)
            values = [r[1] for r in runs] if runs else [v]
            out[(machine, data["commits"][x][0])] = values
    return out
