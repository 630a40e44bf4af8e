"""Reading results files: perfci JSON or pytest-benchmark JSON, told apart by content."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from perfci.environment import Environment, Machine
from perfci.results import (
    BenchmarkResult,
    CommitInfo,
    Metric,
    ResultsError,
    RunInfo,
    RunResult,
    is_sha,
    parse_run,
    validated,
)
from perfci.stats.summary import Summary
from perfci.store.bulk import paused_gc


def load_results_file(path: Path) -> RunResult:
    """Parse `path`; ResultsError (naming the file) for anything unreadable or malformed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with paused_gc():
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{path}: not valid JSON ({exc})") from exc
        try:
            if isinstance(doc, dict) and doc.get("format") == "perfci-run":
                return parse_run(doc)
            if isinstance(doc, dict) and "machine_info" in doc and "benchmarks" in doc:
                return from_pytest_benchmark(doc, hashlib.sha256(raw).hexdigest())
        except ResultsError as exc:
            raise ResultsError(f"{path}: {exc}") from exc
    raise ResultsError(f"{path}: neither a perfci results file nor pytest-benchmark JSON")


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(doc: dict[str, Any], key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResultsError(f"{where}.{key} must be a finite number")
    return float(value)


def _latency(stats: dict[str, Any], where: str) -> Metric:
    data = stats.get("data")
    if data is not None:
        if not isinstance(data, list) or not data:
            raise ResultsError(f"{where}.data must be a non-empty list")
        samples = tuple(_number({"x": v}, "x", f"{where}.data[]") for v in data)
        return Metric("latency", "s", "lower", samples)
    rounds = stats.get("rounds")
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ResultsError(f"{where}.rounds must be a positive integer")
    fields = ("median", "mean", "stddev", "min", "max", "q1", "q3")
    summary = Summary(rounds, *(_number(stats, k, where) for k in fields))
    return Metric("latency", "s", "lower", (), summary)


def _benchmark(doc: object, index: int) -> BenchmarkResult:
    where = f"benchmarks[{index}]"
    if not isinstance(doc, dict):
        raise ResultsError(f"{where} is not an object")
    fullname, stats = doc.get("fullname"), doc.get("stats")
    if not isinstance(fullname, str) or "::" not in fullname:
        raise ResultsError(f"{where}.fullname must be a pytest node id")
    if not isinstance(stats, dict):
        raise ResultsError(f"{where}.stats must be an object")
    path, *names = fullname.split("::")
    extra = _dict(doc.get("extra_info"))
    params = _dict(extra.get("perfci_params"))  # written by perfci's own fixture
    if not params:
        params = _dict(doc.get("params"))
        if doc.get("group"):
            params = {**params, "group": doc["group"]}
    metrics = [_latency(stats, f"{where}.stats")]
    if "cold_start_s" in extra:
        metrics.append(Metric("cold_start", "s", "lower", (_number(extra, "cold_start_s", where),)))
    return BenchmarkResult(
        suite=path.removesuffix(".py"),
        name=".".join(names).split("[")[0],
        params=params,
        metrics=tuple(metrics),
    )


def from_pytest_benchmark(doc: dict[str, Any], digest: str) -> RunResult:
    """A pytest-benchmark JSON document as a run. Its identity is the file's content, so the
    same file ingested twice is stored once."""
    info = doc.get("machine_info")
    if not isinstance(info, dict):
        raise ResultsError("machine_info must be an object")
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        raise ResultsError("benchmarks must be a list")
    when = doc.get("datetime")
    if not isinstance(when, str):
        raise ResultsError("datetime must be a string")
    cpu = _dict(info.get("cpu"))
    arch = str(info.get("machine") or "unknown")
    machine = Machine(
        name=str(info.get("node") or "unknown"),
        chip=str(cpu.get("brand_raw") or info.get("processor") or arch),
        model=None,
        cpu_cores=int(cpu.get("count") or 1),
        performance_cores=None,
        efficiency_cores=None,
        gpu_cores=None,
        memory_bytes=None,
        hardware_arch=arch,
    )
    system = str(info.get("system") or "unknown")
    environment = Environment(
        os="macOS" if system == "Darwin" else system,
        os_version=str(info.get("release") or "unknown"),
        python_version=str(info.get("python_version") or "unknown"),
        python_arch=arch,
        rosetta=False,
        packages={},
    )
    commit_info = _dict(doc.get("commit_info"))
    sha = commit_info.get("id")
    commit = None
    if isinstance(sha, str) and is_sha(sha):
        commit = CommitInfo(
            sha=sha,
            branch=_optional_str(commit_info.get("branch")),
            author_time=_optional_str(commit_info.get("author_time")),
        )
    results = tuple(_benchmark(b, i) for i, b in enumerate(benchmarks))
    return validated(
        RunResult(
            run=RunInfo(
                run_id=f"pytest-benchmark:{digest}",
                started_at=when,
                finished_at=when,
                host=machine.name,
                source="pytest-benchmark",
            ),
            commit=commit,
            machine=machine.as_dict(),
            environment=environment.as_dict(),
            benchmarks=results,
        )
    )
