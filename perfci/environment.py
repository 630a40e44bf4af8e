"""Machine and software fingerprint: what a measurement can only be compared under.

Nothing here imports an ML framework: package versions come from installed metadata,
and macOS facts from `sysctl` and `pmset`, which answer in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

# Packages whose version changes what is measured; a change of any is an environment event.
TRACKED_PACKAGES = ("mlx", "torch", "coremltools", "numpy")

# What a machine's fingerprint is made of: all of its hardware, the label aside. An M4 Pro
# with 16 GPU cores and one with 20 share a chip name but not their timings, so a file
# that cannot tell them apart (pytest-benchmark's machine_info, from another machine) names
# a machine of its own; ingested where it was recorded, it gets this machine's description
# and so the plugin's fingerprint (perfci.store.importers).
FINGERPRINT_FIELDS = (
    "chip",
    "model",
    "cpu_cores",
    "performance_cores",
    "efficiency_cores",
    "gpu_cores",
    "memory_bytes",
    "hardware_arch",
)
SHARED_MACHINE_FIELDS = ("chip", "cpu_cores", "hardware_arch")  # pytest-benchmark tells these


@dataclass(frozen=True)
class MachineInfo:
    """The hardware. Two machines with the same fingerprint give comparable numbers; the
    fingerprint is made of `FINGERPRINT_FIELDS` only (see there why)."""

    name: str
    chip: str
    model: str | None
    cpu_cores: int
    performance_cores: int | None
    efficiency_cores: int | None
    gpu_cores: int | None
    memory_bytes: int | None
    hardware_arch: str

    @property
    def fingerprint(self) -> str:
        return machine_fingerprint(asdict(self))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class EnvironmentInfo:
    """The software: a change here is an event, never blamed on a commit."""

    os: str
    os_version: str
    python_version: str
    python_arch: str
    rosetta: bool
    packages: dict[str, str | None]

    @property
    def fingerprint(self) -> str:
        return _digest(asdict(self))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Conditions:
    """The state of the machine while it measured: noise, not identity."""

    thermal_state: str | None
    low_power_mode: bool | None
    load_average: float | None


def machine_fingerprint(fields: dict[str, Any]) -> str:
    """The fingerprint of a machine's fields (as `MachineInfo.as_dict` gives them)."""
    return _digest({k: fields.get(k) for k in FINGERPRINT_FIELDS})


def _digest(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def is_macos() -> bool:
    return sys.platform == "darwin"


def _run(*cmd: str) -> str | None:
    """Output of a short system command, or None when it is absent or fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _sysctl(name: str) -> str | None:
    return _run("sysctl", "-n", name) if is_macos() else None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def running_under_rosetta() -> bool:
    """True when this process is an x86-64 binary translated on an arm64 Mac."""
    return _sysctl("sysctl.proc_translated") == "1"


def hardware_arch() -> str:
    """The machine's own architecture, which a translated process cannot see directly."""
    return "arm64" if running_under_rosetta() else platform.machine()


def _linux_cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.machine()


def _linux_memory() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _apple_gpu_cores() -> int | None:
    out = _run("ioreg", "-rc", "AGXAccelerator", "-d", "1")
    match = re.search(r'"gpu-core-count"\s*=\s*(\d+)', out or "")
    return int(match.group(1)) if match else None


def current_machine(name: str | None = None) -> MachineInfo:
    label = name or os.environ.get("PERFCI_MACHINE") or socket.gethostname()
    if is_macos():
        return MachineInfo(
            name=label,
            chip=_sysctl("machdep.cpu.brand_string") or "unknown",
            model=_sysctl("hw.model"),
            cpu_cores=os.cpu_count() or 1,  # what py-cpuinfo (pytest-benchmark) counts
            performance_cores=_int(_sysctl("hw.perflevel0.physicalcpu")),
            efficiency_cores=_int(_sysctl("hw.perflevel1.physicalcpu")),
            gpu_cores=_apple_gpu_cores(),
            memory_bytes=_int(_sysctl("hw.memsize")),
            hardware_arch=hardware_arch(),
        )
    return MachineInfo(
        name=label,
        chip=_linux_cpu_model(),
        model=None,
        cpu_cores=os.cpu_count() or 1,
        performance_cores=None,
        efficiency_cores=None,
        gpu_cores=None,
        memory_bytes=_linux_memory(),
        hardware_arch=platform.machine(),
    )


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _os_version() -> tuple[str, str]:
    if is_macos():
        return "macOS", platform.mac_ver()[0]
    if sys.platform.startswith("linux"):
        try:
            text = Path("/etc/os-release").read_text()
            match = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', text, re.MULTILINE)
        except OSError:
            match = None
        distro = match.group(1) if match else "Linux"
        return "Linux", f"{distro}; kernel {platform.release()}"
    return platform.system(), platform.release()


def current_environment() -> EnvironmentInfo:
    os_name, os_version = _os_version()
    return EnvironmentInfo(
        os=os_name,
        os_version=os_version,
        python_version=platform.python_version(),
        python_arch=platform.machine(),
        rosetta=running_under_rosetta(),
        packages={name: package_version(name) for name in TRACKED_PACKAGES},
    )


def parse_pmset_therm(text: str) -> str:
    """`pmset -g therm` → 'nominal', 'throttled (CPU speed limit 80%)' or 'warning level 2'.

    Intel Macs print CPU_Speed_Limit; Apple Silicon prints only a recorded warning level
    ("... Thermal Warning Level = 2"), or that none has been recorded.
    """
    limit = re.search(r"CPU_Speed_Limit\s*=\s*(\d+)", text)
    if limit and int(limit.group(1)) < 100:
        return f"throttled (CPU speed limit {limit.group(1)}%)"
    warning = re.search(r"thermal warning level(?: set to|\s*=)\s*(\d+)", text, re.IGNORECASE)
    if warning and int(warning.group(1)) > 0:
        return f"warning level {warning.group(1)}"
    return "nominal"


def parse_pmset_low_power(text: str) -> bool | None:
    """`pmset -g` → whether low-power mode is on (None when the line is absent).

    Most Macs print `lowpowermode 0|1`; Macs with a High Power mode print
    `powermode 0|1|2` (automatic, low, high).
    """
    match = re.search(r"^\s*(low)?powermode\s+(\d)", text, re.MULTILINE)
    return match.group(2) == "1" if match else None


def current_conditions() -> Conditions:
    thermal = low_power = None
    if is_macos():
        therm = _run("pmset", "-g", "therm")
        thermal = parse_pmset_therm(therm) if therm is not None else None
        settings = _run("pmset", "-g")
        low_power = parse_pmset_low_power(settings) if settings is not None else None
    try:
        load: float | None = os.getloadavg()[0]
    except OSError:
        load = None
    return Conditions(thermal_state=thermal, low_power_mode=low_power, load_average=load)
