"""Builders of results for tests: real `RunResult` objects and the JSON files they make."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from perfci.environment import EnvironmentInfo, MachineInfo
from perfci.results import BenchmarkResult, CommitInfo, Metric, Outcome, RunInfo, RunResult

MACHINE = MachineInfo(
    name="mini-1",
    chip="Apple M4 Pro",
    model="Mac16,11",
    cpu_cores=14,
    performance_cores=10,
    efficiency_cores=4,
    gpu_cores=20,
    memory_bytes=64 * 2**30,
    hardware_arch="arm64",
)
ENVIRONMENT = EnvironmentInfo(
    os="macOS",
    os_version="15.5",
    python_version="3.12.9",
    python_arch="arm64",
    rosetta=False,
    packages={"mlx": "0.26.1", "torch": "2.7.1", "coremltools": "8.3.0", "numpy": "2.2.6"},
)


def sha(seed: object) -> str:
    return uuid.uuid5(uuid.NAMESPACE_OID, str(seed)).hex + "0" * 8


def samples(median: float, n: int = 20, spread: float = 0.01, seed: int = 0) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(median * rng.lognormvariate(0, spread) for _ in range(n))


def benchmark(
    name: str = "test_gemm",
    params: dict[str, Any] | None = None,
    latency: float = 1e-3,
    seed: int = 0,
    suite: str = "suites/mlx/test_gemm",
) -> BenchmarkResult:
    return BenchmarkResult(
        suite=suite,
        name=name,
        params=params if params is not None else {"backend": "mlx", "n": 512},
        metrics=(
            Metric("latency", "s", "lower", samples(latency, seed=seed)),
            Metric("cold_start", "s", "lower", (latency * 40,)),
        ),
    )


def run(
    commit: str | None = None,
    parents: tuple[str, ...] = (),
    benchmarks: tuple[BenchmarkResult, ...] | None = None,
    outcomes: tuple[Outcome, ...] = (),
    started_at: str = "2026-11-01T10:00:00+00:00",
    machine: MachineInfo = MACHINE,
    environment: EnvironmentInfo = ENVIRONMENT,
    run_id: str | None = None,
    subject: str | None = "Speed up the matmul",
) -> RunResult:
    return RunResult(
        run=RunInfo(
            run_id=run_id or str(uuid.uuid4()),
            started_at=started_at,
            finished_at=started_at,
            profile="quick",
            host=machine.name,
        ),
        commit=CommitInfo(sha=commit or sha("c0"), parents=parents, branch="main", subject=subject),
        machine=machine.as_dict(),
        environment=environment.as_dict(),
        benchmarks=benchmarks if benchmarks is not None else (benchmark(),),
        outcomes=outcomes,
    )


def write(result: RunResult, path: Path) -> Path:
    path.write_text(result.to_json())
    return path
