"""Machine and environment fingerprints, and the macOS `pmset` outputs behind conditions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import socket
import sys

import numpy as np
import pytest
from factories import ENVIRONMENT, MACHINE

from perfci.environment import (
    FINGERPRINT_FIELDS,
    TRACKED_PACKAGES,
    current_conditions,
    current_environment,
    current_machine,
    parse_pmset_low_power,
    parse_pmset_therm,
)

# `pmset -g therm` on an Apple Silicon Mac that has recorded nothing.
THERM_APPLE_SILICON_QUIET = """\
Note: No thermal warning level has been recorded
Note: No performance warning level has been recorded
Note: No CPU power status has been recorded
"""

# An Intel Mac running at full speed.
THERM_INTEL_NOMINAL = """\
Note: No thermal warning level has been recorded
Note: No performance warning level has been recorded
2026-11-01 10:00:04 +0100 CPU Power notify
\tCPU_Scheduler_Limit \t= 100
\tCPU_Available_CPUs \t= 8
\tCPU_Speed_Limit \t= 100
"""

# The same Intel Mac, hot: the CPU is held to 62% of its speed.
THERM_INTEL_THROTTLED = """\
2026-11-01 10:14:37 +0100 Thermal Warning Level = 2
Note: No performance warning level has been recorded
2026-11-01 10:14:37 +0100 CPU Power notify
\tCPU_Scheduler_Limit \t= 100
\tCPU_Available_CPUs \t= 8
\tCPU_Speed_Limit \t= 62
"""

# pmset prints a recorded level as "<date> Thermal Warning Level = N" (pmset.c,
# show_thermal_warning_level); Apple Silicon reports no CPU_Speed_Limit at all.
THERM_APPLE_SILICON_WARNING = """\
2026-11-01 10:14:37 +0100 Thermal Warning Level = 2
Note: No performance warning level has been recorded
Note: No CPU power status has been recorded
"""

THERM_APPLE_SILICON_LEVEL_ZERO = """\
2026-11-01 10:14:37 +0100 Thermal Warning Level = 0
Note: No performance warning level has been recorded
Note: No CPU power status has been recorded
"""

PMSET_G = """\
System-wide power settings:
Currently in use:
 standby              0
 Sleep On Power Button 1
 autorestart          0
 hibernatefile        /var/vm/sleepimage
 powernap             1
 networkoversleep     0
 disksleep            10
 sleep                1 (sleep prevented by sharingd, powerd)
 hibernatemode        0
 ttyskeepawake        1
 displaysleep         10
 tcpkeepalive         1
 lowpowermode         {flag}
 womp                 1
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (THERM_APPLE_SILICON_QUIET, "nominal"),
        (THERM_INTEL_NOMINAL, "nominal"),
        (THERM_INTEL_THROTTLED, "throttled (CPU speed limit 62%)"),
        (THERM_APPLE_SILICON_LEVEL_ZERO, "nominal"),
        (THERM_APPLE_SILICON_WARNING, "warning level 2"),
        ("CPU_Speed_Limit = 100", "nominal"),
        ("CPU_Speed_Limit = 99", "throttled (CPU speed limit 99%)"),
        ("", "nominal"),
    ],
    ids=[
        "apple-silicon-quiet",
        "intel-nominal",
        "intel-throttled",
        "apple-silicon-level-0",
        "apple-silicon-warning",
        "bare-100",
        "bare-99",
        "empty",
    ],
)
def test_parse_pmset_therm(text: str, expected: str) -> None:
    assert parse_pmset_therm(text) == expected


@pytest.mark.parametrize(("flag", "expected"), [("0", False), ("1", True)])
def test_parse_pmset_low_power(flag: str, expected: bool) -> None:
    assert parse_pmset_low_power(PMSET_G.format(flag=flag)) is expected


def test_parse_pmset_low_power_missing_line_is_unknown() -> None:
    without = "\n".join(
        line for line in PMSET_G.format(flag="1").splitlines() if "lowpowermode" not in line
    )
    assert "lowpowermode" not in without
    assert parse_pmset_low_power(without) is None
    assert parse_pmset_low_power("") is None


def test_machine_fingerprint_ignores_the_name() -> None:
    renamed = dataclasses.replace(MACHINE, name="mini-2")
    assert renamed.fingerprint == MACHINE.fingerprint
    assert renamed.as_dict()["name"] == "mini-2"


@pytest.mark.parametrize(
    "change",
    [
        {"chip": "Apple M4 Max"},
        {"model": "Mac16,10"},
        {"cpu_cores": 12},
        {"gpu_cores": 16},  # an M4 Pro with 16 GPU cores times apart from one with 20
        {"memory_bytes": 24 * 2**30},
        {"hardware_arch": "x86_64"},
    ],
)
def test_machine_fingerprint_follows_the_hardware(change: dict[str, object]) -> None:
    assert dataclasses.replace(MACHINE, **change).fingerprint != MACHINE.fingerprint


def test_machine_fingerprint_is_the_one_stored_stores_hold() -> None:
    """Every hardware field but the label, as stores already written have it: an upgrade
    does not split a machine's series."""
    fields = dataclasses.asdict(MACHINE)
    del fields["name"]
    assert set(FINGERPRINT_FIELDS) == set(fields)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert MACHINE.fingerprint == hashlib.sha256(text.encode()).hexdigest()


def test_machine_as_dict_carries_the_fingerprint() -> None:
    d = MACHINE.as_dict()
    assert d["fingerprint"] == MACHINE.fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", d["fingerprint"])
    assert {k: v for k, v in d.items() if k != "fingerprint"} == dataclasses.asdict(MACHINE)


@pytest.mark.parametrize(
    "packages",
    [
        {**ENVIRONMENT.packages, "mlx": "0.26.2"},
        {**ENVIRONMENT.packages, "torch": None},
        {**ENVIRONMENT.packages, "jax": "0.4.30"},
    ],
)
def test_environment_fingerprint_changes_with_a_package(packages: dict[str, str | None]) -> None:
    changed = dataclasses.replace(ENVIRONMENT, packages=packages)
    assert changed.fingerprint != ENVIRONMENT.fingerprint


@pytest.mark.parametrize(
    "change",
    [{"os_version": "15.6"}, {"python_version": "3.12.10"}, {"rosetta": True}],
)
def test_environment_fingerprint_changes_with_the_software(change: dict[str, object]) -> None:
    assert dataclasses.replace(ENVIRONMENT, **change).fingerprint != ENVIRONMENT.fingerprint


def test_environment_fingerprint_ignores_package_order() -> None:
    shuffled = dict(reversed(list(ENVIRONMENT.packages.items())))
    assert list(shuffled) != list(ENVIRONMENT.packages)
    assert dataclasses.replace(ENVIRONMENT, packages=shuffled).fingerprint == (
        ENVIRONMENT.fingerprint
    )


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="describes this Linux machine"
)


@linux_only
def test_current_machine_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFCI_MACHINE", raising=False)
    machine = current_machine()
    assert machine.name == socket.gethostname()
    assert machine.cpu_cores >= 1
    assert machine.cpu_cores == os.cpu_count()
    assert machine.hardware_arch == platform.machine()
    assert machine.chip.strip()
    assert machine.model is None
    assert machine.memory_bytes is not None and machine.memory_bytes > 2**20
    assert current_machine().fingerprint == machine.fingerprint


@linux_only
def test_current_machine_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFCI_MACHINE", "ci-runner-7")
    assert current_machine().name == "ci-runner-7"
    assert current_machine("bench-1").name == "bench-1"
    assert current_machine("bench-1").fingerprint == current_machine().fingerprint


@linux_only
def test_current_environment_on_linux() -> None:
    env = current_environment()
    assert env.os == "Linux"
    assert platform.release() in env.os_version
    assert env.python_version == platform.python_version()
    assert env.python_arch == platform.machine()
    assert env.rosetta is False
    assert tuple(env.packages) == TRACKED_PACKAGES
    assert env.packages["numpy"] == np.__version__
    assert current_environment().fingerprint == env.fingerprint


@linux_only
def test_current_conditions_on_linux() -> None:
    conditions = current_conditions()
    assert conditions.thermal_state is None
    assert conditions.low_power_mode is None
    assert conditions.load_average is not None and conditions.load_average >= 0
