"""perfci measures its comparator: change points in a 5,000-point series (target: under
50 ms) and `compare` of two runs of 500 benchmarks (target: under 2 s), each beside a
peer measured in the same run: numpy's sort of the same series (the floor of any
median-based method) and loading the two results files alone."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from perfci.cli import main as perfci_main
from perfci.environment import current_environment, current_machine
from perfci.results import CommitInfo, RunInfo, RunResult
from perfci.stats.changepoint import detect
from perfci.store.importers import load_results_file


def _series(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    values = 1 + 0.02 * rng.standard_normal(n)
    values[n // 2 :] *= 1.05
    return values


@pytest.mark.perf_sizes("n", quick=[5000], full=[5000])
def test_detect_series(perf, n: int) -> None:
    values = _series(n)
    perf(lambda: detect(values), items=n, unit="values",
         check=lambda found: [abs(c.index - n // 2) <= 2 for c in found] == [True])  # fmt: skip


@pytest.mark.perf_sizes("n", quick=[5000], full=[5000])
def test_sort_series_peer(perf, n: int) -> None:
    values = _series(n)
    perf(lambda: np.sort(np.log(values)), items=n, unit="values")


def _results(path: Path, seed: int, benchmarks: int) -> Path:
    rng = random.Random(seed)
    when = "2026-01-01T00:00:00+00:00"
    doc = json.loads(
        RunResult(
            run=RunInfo(run_id=f"r{seed}", started_at=when, finished_at=when),
            commit=CommitInfo(sha=f"{seed:040x}"),
            machine=current_machine().as_dict(),
            environment=current_environment().as_dict(),
            benchmarks=(),
        ).to_json()
    )
    doc["benchmarks"] = [
        {
            "suite": "suites/synthetic",
            "name": f"bench_{i}",
            "params": {},
            "metrics": [
                {
                    "name": "latency",
                    "unit": "s",
                    "direction": "lower",
                    "samples": [rng.lognormvariate(-7, 0.02) for _ in range(20)],
                }
            ],
        }
        for i in range(benchmarks)
    ]
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.perf_sizes("benchmarks", quick=[500], full=[500])
def test_compare_files(perf, tmp_path: Path, benchmarks: int, capsys) -> None:
    base = _results(tmp_path / "base.json", 1, benchmarks)
    head = _results(tmp_path / "head.json", 2, benchmarks)

    def compare() -> int:
        code = perfci_main(["compare", str(base), str(head), "--format", "json"])
        capsys.readouterr()
        return code

    perf(compare, items=benchmarks, unit="benchmarks", check=lambda code: code == 0)


@pytest.mark.perf_sizes("benchmarks", quick=[500], full=[500])
def test_load_files_peer(perf, tmp_path: Path, benchmarks: int) -> None:
    base = _results(tmp_path / "base.json", 1, benchmarks)
    head = _results(tmp_path / "head.json", 2, benchmarks)
    perf(lambda: (load_results_file(base), load_results_file(head)), items=benchmarks,
         unit="benchmarks")  # fmt: skip
