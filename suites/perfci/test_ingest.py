"""perfci measures itself: ingest throughput into SQLite, against a raw sqlite3 insert
of the same rows (the floor any ORM-free writer could reach)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import sqlite3
import struct
from pathlib import Path

import pytest

from perfci.environment import current_environment, current_machine
from perfci.results import BenchmarkResult, CommitInfo, RunInfo, RunResult, parse_run
from perfci.store import open_store
from perfci.store.importers import load_results_file
from perfci.store.ingest import ingest_runs

METRICS = ("latency", "throughput", "cold_start", "process_peak_memory", "device_peak_memory")
SAMPLES = 20


def _results_file(path: Path, benchmarks: int) -> Path:
    """A perfci results file of `benchmarks` benchmarks, 5 metrics each, 20 samples a metric."""
    rng = random.Random(0)
    when = "2026-01-01T00:00:00+00:00"
    base = json.loads(
        RunResult(
            run=RunInfo(run_id="template", started_at=when, finished_at=when),
            commit=CommitInfo(sha="0" * 40),
            machine=current_machine().as_dict(),
            environment=current_environment().as_dict(),
            benchmarks=(),
        ).to_json()
    )
    base["benchmarks"] = [
        {
            "suite": "suites/synthetic",
            "name": f"bench_{i // 10}",
            "params": {"batch": i % 10, "dtype": "float16"},
            "metrics": [
                {
                    "name": m,
                    "unit": "s",
                    "direction": "lower",
                    "samples": [rng.lognormvariate(0, 0.05) for _ in range(SAMPLES)],
                }
                for m in METRICS
            ],
        }
        for i in range(benchmarks)
    ]
    path.write_text(json.dumps(base))
    return path


@pytest.mark.perf_sizes("benchmarks", quick=[1000], full=[4000])
def test_ingest_sqlite(perf, tmp_path: Path, benchmarks: int) -> None:
    """Read, validate and store one results file into an existing SQLite store."""
    source = _results_file(tmp_path / "run.json", benchmarks)
    store = open_store(f"sqlite:///{tmp_path / 'perfci.db'}")
    counter = itertools.count()

    def ingest() -> int:
        result = load_results_file(source)
        run = dataclasses.replace(result.run, run_id=f"run-{next(counter)}")
        (stored,) = ingest_runs(store, [dataclasses.replace(result, run=run)])
        return stored.measurements

    def check(measurements: int) -> None:
        assert measurements == benchmarks * len(METRICS)

    perf(ingest, items=benchmarks * len(METRICS), unit="measurements", check=check)
    store.close()


@pytest.mark.perf_sizes("benchmarks", quick=[1000], full=[4000])
def test_raw_sqlite_insert_peer(perf, tmp_path: Path, benchmarks: int) -> None:
    """The peer: the same rows through sqlite3.executemany, no parsing, no ORM, no checks."""
    source = _results_file(tmp_path / "run.json", benchmarks)
    result: RunResult = parse_run(json.loads(source.read_text()))
    conn = sqlite3.connect(tmp_path / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE m (run INTEGER, bench INTEGER, metric TEXT, samples BLOB)")
    counter = itertools.count()

    def rows(run: int, benches: tuple[BenchmarkResult, ...]) -> list[tuple[int, int, str, bytes]]:
        return [
            (run, i, m.name, struct.pack(f"<{len(m.samples)}d", *m.samples))
            for i, b in enumerate(benches)
            for m in b.metrics
        ]

    def insert() -> int:
        batch = rows(next(counter), result.benchmarks)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?)", batch)
        conn.execute("COMMIT")
        return len(batch)

    perf(insert, items=benchmarks * len(METRICS), unit="measurements")
    conn.close()
