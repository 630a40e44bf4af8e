"""Reading results files: perfci JSON or pytest-benchmark JSON, told apart by content."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import stat
from functools import cache
from pathlib import Path
from typing import Any

from perfci.environment import (
    SHARED_MACHINE_FIELDS,
    EnvironmentInfo,
    MachineInfo,
    current_environment,
    current_machine,
    package_version,
)
from perfci.params import benchmark_params
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
    """Parse `path`; ResultsError (naming the file) for anything unreadable or malformed.
    Only a regular file is read: it is opened without blocking and checked before any
    read, so a FIFO or a device named *.json is refused rather than waited on. JSON
    nested past what the decoder can follow is one line too."""
    raw = _read_regular_file(path)
    with paused_gc():
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{path}: not valid JSON ({exc})") from exc
        except RecursionError:
            raise ResultsError(f"{path}: nested too deeply to be a results file") from None
        try:
            if isinstance(doc, dict) and doc.get("format") == "perfci-run":
                return parse_run(doc)
            if isinstance(doc, dict) and "machine_info" in doc and "benchmarks" in doc:
                return from_pytest_benchmark(doc, hashlib.sha256(raw).hexdigest())
        except ResultsError as exc:
            raise ResultsError(f"{path}: {exc}") from exc
    raise ResultsError(f"{path}: neither a perfci results file nor pytest-benchmark JSON")


def _read_regular_file(path: Path) -> bytes:
    """The bytes of `path` when it is a regular file; ResultsError naming it otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except ValueError:  # a NUL in the path
        raise ResultsError(f"{str(path)[:80]!r}: not a file name") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ResultsError(f"{path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


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
    if not params:  # a plain `benchmark` fixture: named as the plugin names it
        params = benchmark_params(
            _dict(doc.get("params")),
            _optional_str(doc.get("param")),
            _optional_str(doc.get("group")),
            extra,
        )
    metrics = [_latency(stats, f"{where}.stats")]
    if "cold_start_s" in extra:
        metrics.append(Metric("cold_start", "s", "lower", (_number(extra, "cold_start_s", where),)))
    return BenchmarkResult(
        suite=path.removesuffix(".py"),
        name=".".join(names).split("[")[0],
        params=params,
        metrics=tuple(metrics),
    )


_NO_BRANCH = ("(unknown)", "(detached head)", "HEAD", "")


def _commit_info(doc: dict[str, Any]) -> CommitInfo | None:
    """pytest-benchmark's commit_info (id, branch, time, author_time, dirty, project):
    the commit when `id` is a sha (it is 'unversioned' or 'unknown' outside git)."""
    info = _dict(doc.get("commit_info"))
    sha = info.get("id")
    if not isinstance(sha, str) or not is_sha(sha.lower()):
        return None
    branch = _optional_str(info.get("branch"))
    return CommitInfo(
        sha=sha.lower(),
        branch=None if branch in _NO_BRANCH else branch,
        author_time=_optional_str(info.get("author_time")),
    )


def _machine(info: dict[str, Any]) -> MachineInfo:
    """The machine as machine_info describes it: the fingerprint's fields (chip, CPU count,
    hardware architecture) filled as perfci's plugin fills them on the same machine."""
    cpu = _dict(info.get("cpu"))
    arch = str(info.get("machine") or "unknown")
    chip = str(cpu.get("brand_raw") or info.get("processor") or arch)
    count = cpu.get("count")
    translated = info.get("system") == "Darwin" and arch == "x86_64" and chip.startswith("Apple")
    return MachineInfo(
        name=str(info.get("node") or "unknown"),
        chip=chip,
        model=None,
        cpu_cores=count if isinstance(count, int) and count > 0 else 1,
        performance_cores=None,
        efficiency_cores=None,
        gpu_cores=None,
        memory_bytes=None,
        hardware_arch="arm64" if translated else arch,  # Rosetta: an arm64 Mac
    )


def _environment(info: dict[str, Any], machine: MachineInfo) -> EnvironmentInfo:
    """What machine_info tells of the software: OS, kernel release, Python. It records no
    package versions, so those stay unknown."""
    system = str(info.get("system") or "unknown")
    arch = str(info.get("machine") or "unknown")
    return EnvironmentInfo(
        os="macOS" if system == "Darwin" else system,
        os_version=str(info.get("release") or "unknown"),
        python_version=str(info.get("python_version") or "unknown"),
        python_arch=arch,
        rosetta=machine.hardware_arch != arch,
        packages={},
    )


_HOST_FIELDS = ("node", "system", "release", "machine")
_PYTHON_FIELDS = ("python_implementation", "python_version", "python_compiler", "python_build")


@cache
def _this_python() -> dict[str, Any]:
    """machine_info's fields as this Python on this machine would write them."""
    return {
        "node": platform.node(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
        "python_version": platform.python_version(),
        "python_compiler": platform.python_compiler(),
        "python_build": list(platform.python_build()),
    }


@cache
def _here() -> tuple[MachineInfo, EnvironmentInfo]:
    return current_machine(), current_environment()


def _recorded_here(
    doc: dict[str, Any], machine: MachineInfo
) -> tuple[MachineInfo, EnvironmentInfo | None] | None:
    """This machine, as perfci's plugin records it, when the file was written here (same
    host, kernel and the hardware the file can tell), with this environment too when it
    was written by this Python (same interpreter build and pytest-benchmark version: in
    all likelihood the same installation); None when written elsewhere."""
    info = _dict(doc.get("machine_info"))
    this = _this_python()
    if any(info.get(k) != this[k] for k in _HOST_FIELDS):
        return None
    here, environment = _here()
    # the fields pytest-benchmark's machine_info can tell (no GPU cores or memory)
    if any(getattr(here, k) != getattr(machine, k) for k in SHARED_MACHINE_FIELDS):
        return None
    same_python = all(info.get(k) == this[k] for k in _PYTHON_FIELDS)
    if not same_python or doc.get("version") != package_version("pytest-benchmark"):
        return here, None
    return here, environment


def from_pytest_benchmark(doc: dict[str, Any], digest: str) -> RunResult:
    """A pytest-benchmark JSON document as a run. Its identity is the file's content, so the
    same file ingested twice is stored once.

    A file written on this machine by this Python is given this machine's full
    description and this environment (package versions included), exactly as the plugin
    records them, so its runs are one machine and environment with the plugin's.
    Elsewhere the machine is what the file can tell (no model, GPU cores or memory: a
    machine of its own, never taken for a fuller one) and the environment what the file
    says (OS, kernel release, Python), with no package versions."""
    info = doc.get("machine_info")
    if not isinstance(info, dict):
        raise ResultsError("machine_info must be an object")
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        raise ResultsError("benchmarks must be a list")
    when = doc.get("datetime")
    if not isinstance(when, str):
        raise ResultsError("datetime must be a string")
    machine = _machine(info)
    environment = _environment(info, machine)
    here = _recorded_here(doc, machine)
    if here is not None:
        machine, environment = here[0], here[1] or environment
    results = tuple(_benchmark(b, i) for i, b in enumerate(benchmarks))
    return validated(
        RunResult(
            run=RunInfo(
                run_id=f"pytest-benchmark:{digest}",
                started_at=when,
                finished_at=when,
                host=str(info.get("node") or machine.name),
                source="pytest-benchmark",
            ),
            commit=_commit_info(doc),
            machine=machine.as_dict(),
            environment=environment.as_dict(),
            benchmarks=results,
        )
    )
