"""`perfci doctor`: the pitfalls that make Apple Silicon numbers wrong, one line each.

Facts are gathered once (`gather`); the checks are pure functions of them, so every
branch — a Rosetta Python, a hot machine, MPS fallback — is testable on any machine.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from perfci.environment import (
    current_conditions,
    hardware_arch,
    package_version,
    running_under_rosetta,
)
from perfci.steadiness import WINDOW_S, Steadiness, probe

Status = Literal["ok", "warn", "fail", "n/a"]


@dataclass(frozen=True)
class Facts:
    platform: str  # sys.platform
    python_arch: str
    hardware_arch: str
    rosetta: bool
    torch_version: str | None
    mps_problem: str | None  # None: MPS usable
    mlx_version: str | None
    mlx_device: str | None  # "gpu" / "cpu"
    coreml_problem: str | None  # None: Core ML can predict
    thermal_state: str | None
    low_power_mode: bool | None
    mps_fallback: str | None  # $PYTORCH_ENABLE_MPS_FALLBACK
    load_average: float | None
    cpu_count: int
    steadiness: Steadiness | None = None  # measured only when asked (`doctor --probe`)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"[{self.status:>4}] {self.name}: {self.detail}{fix}"


def _mlx_facts() -> tuple[str | None, str | None]:
    """MLX's version (from its metadata) and default device (mlx.core is light to import)."""
    version = package_version("mlx")
    if version is None:
        return None, None
    try:
        import mlx.core as mx
    except ImportError:
        return version, None
    return version, "gpu" if mx.default_device() == mx.gpu else "cpu"


def _torch_facts() -> tuple[str | None, str | None]:
    """torch's version (from its metadata) and why MPS cannot be used; torch itself is
    imported only where MPS can exist, on macOS, to ask it."""
    version = package_version("torch")
    if version is None:
        return None, "torch is not installed"
    if sys.platform != "darwin":
        return version, f"no MPS on {sys.platform}"
    try:
        import torch
    except ImportError as exc:
        return version, f"torch does not import ({exc})"
    from perfci.backends.torch import mps_unavailable_reason

    return version, mps_unavailable_reason(torch)


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_logger(name: str) -> Iterator[_Captured]:
    """Warnings and `name`'s log records are kept, not printed, while inside."""
    logger = logging.getLogger(name)
    captured = _Captured()
    propagate = logger.propagate
    logger.addHandler(captured)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield captured
    finally:
        logger.removeHandler(captured)
        logger.propagate = propagate


def _coreml_problem(rosetta: bool) -> str | None:
    """Why Core ML cannot predict here, or None. coremltools (slow to import, and noisy:
    version warnings, native libraries it fails to load) is imported only on a native
    macOS Python, where prediction is possible; what it logs then is kept, and a native
    library it could not load is the problem."""
    if package_version("coremltools") is None:
        return "coremltools is not installed; pip install 'perfci[coreml]'"
    if sys.platform != "darwin":
        return "Core ML prediction needs macOS"
    if rosetta:
        return "Core ML under Rosetta cannot use the GPU or Neural Engine; use an arm64 Python"
    from perfci.backends.coreml import prediction_unavailable_reason

    with _quiet_logger("coremltools") as captured:
        try:
            problem = prediction_unavailable_reason()
        except Exception as exc:  # a broken install fails in its own ways; report it
            return f"coremltools does not import ({type(exc).__name__}: {exc})"
    failed = [m for m in captured.messages if m.startswith("Failed to load")]
    if problem is None and failed:
        return f"coremltools cannot use Core ML here: {failed[0]}"
    return problem


def gather(probe_seconds: float = 0.0) -> Facts:
    """Look at this machine: versions from installed metadata; torch and coremltools are
    imported only on macOS, where their checks can pass. `probe_seconds` > 0 also times
    the machine's steadiness for that long."""
    rosetta = running_under_rosetta()
    torch_version, mps_problem = _torch_facts()
    mlx_version, mlx_device = _mlx_facts()
    conditions = current_conditions()
    return Facts(
        platform=sys.platform,
        python_arch=platform.machine(),
        hardware_arch=hardware_arch(),
        rosetta=rosetta,
        torch_version=torch_version,
        mps_problem=mps_problem,
        mlx_version=mlx_version,
        mlx_device=mlx_device,
        coreml_problem=_coreml_problem(rosetta),
        thermal_state=conditions.thermal_state,
        low_power_mode=conditions.low_power_mode,
        mps_fallback=os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK"),
        load_average=conditions.load_average,
        cpu_count=os.cpu_count() or 1,
        steadiness=probe(probe_seconds) if probe_seconds > 0 else None,
    )


def _native(f: Facts) -> Check:
    name = "native Python"
    if f.rosetta:
        return Check(
            name,
            "fail",
            "this Python is x86-64 running under Rosetta: no Metal, no Neural "
            "Engine, slower CPU code",
            "install an arm64 Python (python.org or `arch -arm64 brew`)",
        )
    if f.platform == "darwin" and f.hardware_arch == "arm64":
        return Check(name, "ok", "arm64 Python on Apple Silicon")
    return Check(name, "n/a", f"{f.python_arch} Python on {f.platform}; Rosetta is a macOS matter")


def _mps(f: Facts) -> Check:
    name = "PyTorch MPS"
    if f.torch_version is None:
        return Check(
            name, "n/a", "torch is not installed", "pip install 'perfci[torch]' to measure it"
        )
    if f.mps_problem is None:
        return Check(name, "ok", f"torch {f.torch_version} can use the Apple GPU")
    if f.platform == "darwin":
        return Check(
            name, "fail", f.mps_problem, "install an arm64 torch build with MPS (pip install torch)"
        )
    return Check(name, "n/a", f"{f.mps_problem} (torch {f.torch_version}); MPS needs macOS")


def _mlx(f: Facts) -> Check:
    name = "MLX device"
    if f.mlx_version is None:
        return Check(name, "n/a", "MLX is not installed", "pip install 'perfci[mlx]' to measure it")
    if f.mlx_device == "gpu":
        return Check(name, "ok", f"mlx {f.mlx_version} defaults to the GPU")
    if f.platform == "darwin":
        return Check(
            name,
            "warn",
            f"mlx {f.mlx_version} defaults to the CPU",
            "call mx.set_default_device(mx.gpu), or install the Metal build (pip install mlx)",
        )
    return Check(name, "n/a", f"mlx {f.mlx_version} runs on the CPU here; Metal needs macOS")


def _coreml(f: Facts) -> Check:
    name = "Core ML prediction"
    if f.coreml_problem is None:
        return Check(name, "ok", "coremltools can load and predict")
    status: Status = (
        "fail" if f.platform == "darwin" and "not installed" not in f.coreml_problem else "n/a"
    )
    return Check(name, status, f.coreml_problem)


def _thermal(f: Facts) -> Check:
    name = "thermal state"
    if f.thermal_state is None:
        return Check(name, "n/a", "read with `pmset -g therm` on macOS only")
    if f.thermal_state == "nominal":
        return Check(name, "ok", "nominal")
    return Check(
        name,
        "warn",
        f.thermal_state,
        "let the machine cool; give it airflow; keep it out of the sun and off other hot boxes",
    )


def _low_power(f: Facts) -> Check:
    name = "low-power mode"
    if f.low_power_mode is None:
        return Check(name, "n/a", "read with `pmset -g` on macOS only")
    if not f.low_power_mode:
        return Check(name, "ok", "off")
    return Check(name, "fail", "on: clocks are capped", "sudo pmset -a lowpowermode 0")


def _mps_fallback(f: Facts) -> Check:
    name = "PYTORCH_ENABLE_MPS_FALLBACK"
    if f.mps_fallback in (None, "", "0"):
        return Check(name, "ok", "unset: an op MPS lacks raises instead of running on the CPU")
    return Check(
        name,
        "warn",
        f"={f.mps_fallback}: ops missing on MPS silently run on the CPU",
        "unset PYTORCH_ENABLE_MPS_FALLBACK while measuring",
    )


def _load(f: Facts) -> Check:
    name = "machine load"
    if f.load_average is None:
        return Check(name, "n/a", "no load average on this OS")
    share = f.load_average / f.cpu_count
    detail = f"1-minute load {f.load_average:.2f} on {f.cpu_count} cores"
    if share > 0.5:
        return Check(
            name,
            "warn",
            f"{detail}: other work competes with benchmarks",
            "stop other jobs (Spotlight indexing, builds, browsers) before measuring",
        )
    return Check(name, "ok", detail)


STEADY = 1.25  # slowest / fastest window beyond which changes below it need many rounds


def _steadiness(f: Facts) -> Check:
    name = "steady speed"
    s = f.steadiness
    if s is None:
        return Check(name, "n/a", "not timed (perfci doctor --probe times it in 1 s)")
    detail = (
        f"a fixed workload took {s.fastest * 1e6:.0f} µs a call in the fastest of {s.windows} "
        f"{WINDOW_S:.1f}-second windows and {s.slowest * 1e6:.0f} µs in the slowest "
        f"(×{s.spread:.2f})"
    )
    if s.spread > STEADY:
        return Check(
            name,
            "warn",
            f"{detail}: the machine's speed moves, so changes smaller than that need many "
            "rounds (perfci ab) or a steadier machine",
            "measure on a dedicated machine (a shared virtual machine moves like this)",
        )
    return Check(name, "ok", detail)


CHECKS = (
    _native, _mps, _mlx, _coreml, _thermal, _low_power, _mps_fallback, _load, _steadiness,
)  # fmt: skip


def run_checks(facts: Facts) -> list[Check]:
    return [check(facts) for check in CHECKS]
