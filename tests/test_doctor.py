"""`perfci doctor`: pure checks over `Facts`, the real facts of this machine, and the CLI."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perfci.doctor import CHECKS, Check, Facts, gather, run_checks
from perfci.steadiness import Steadiness, probe

# A healthy Apple Silicon Mac: every check is "ok".
MAC = Facts(
    platform="darwin",
    python_arch="arm64",
    hardware_arch="arm64",
    rosetta=False,
    torch_version="2.7.1",
    mps_problem=None,
    mlx_version="0.26.1",
    mlx_device="gpu",
    coreml_problem=None,
    thermal_state="nominal",
    low_power_mode=False,
    mps_fallback=None,
    load_average=1.0,
    cpu_count=14,
    steadiness=Steadiness(100e-6, 104e-6, 10),
)

LINUX = Facts(
    platform="linux",
    python_arch="x86_64",
    hardware_arch="x86_64",
    rosetta=False,
    torch_version="2.7.1+cpu",
    mps_problem="MPS not built into this torch",
    mlx_version="0.26.1",
    mlx_device="cpu",
    coreml_problem="Core ML prediction needs macOS",
    thermal_state=None,
    low_power_mode=None,
    mps_fallback=None,
    load_average=0.2,
    cpu_count=8,
)

ROSETTA_COREML = "Core ML under Rosetta cannot use the GPU or Neural Engine; use an arm64 Python"
LINE = re.compile(r"^\[(  ok|warn|fail| n/a)\] [^:]+: .+$")


def checks(facts: Facts, **changes: Any) -> dict[str, Check]:
    return {c.name: c for c in run_checks(dataclasses.replace(facts, **changes))}


def test_healthy_mac_is_all_ok() -> None:
    result = checks(MAC)
    assert len(result) == len(CHECKS)
    assert {name: c.status for name, c in result.items() if c.status != "ok"} == {}


def test_rosetta_python_on_arm64_mac_fails() -> None:
    native = checks(MAC, python_arch="x86_64", rosetta=True)["native Python"]
    assert native.status == "fail"
    assert "Rosetta" in native.detail
    assert "arm64" in native.fix


def test_native_arm64_mac_is_ok() -> None:
    native = checks(MAC)["native Python"]
    assert native.status == "ok"
    assert native.fix == ""


def test_linux_checks_are_not_applicable_with_reasons() -> None:
    result = checks(LINUX)
    expected = {
        "native Python": "Rosetta is a macOS matter",
        "PyTorch MPS": "MPS needs macOS",
        "MLX device": "Metal needs macOS",
        "Core ML prediction": "Core ML prediction needs macOS",
        "thermal state": "pmset -g therm",
        "low-power mode": "pmset -g",
    }
    for name, reason in expected.items():
        assert result[name].status == "n/a", name
        assert reason in result[name].detail, name
    assert result["PYTORCH_ENABLE_MPS_FALLBACK"].status == "ok"
    assert result["machine load"].status == "ok"


@pytest.mark.parametrize(
    ("name", "changes", "status"),
    [
        ("PYTORCH_ENABLE_MPS_FALLBACK", {"mps_fallback": "1"}, "warn"),
        ("PYTORCH_ENABLE_MPS_FALLBACK", {"mps_fallback": "0"}, "ok"),
        ("PYTORCH_ENABLE_MPS_FALLBACK", {"mps_fallback": ""}, "ok"),
        ("low-power mode", {"low_power_mode": True}, "fail"),
        ("low-power mode", {"low_power_mode": None}, "n/a"),
        ("thermal state", {"thermal_state": "throttled (CPU speed limit 80%)"}, "warn"),
        ("thermal state", {"thermal_state": "warning level 2"}, "warn"),
        ("thermal state", {"thermal_state": None}, "n/a"),
        ("machine load", {"load_average": 7.01, "cpu_count": 14}, "warn"),
        ("machine load", {"load_average": 7.0, "cpu_count": 14}, "ok"),  # exactly half
        ("machine load", {"load_average": None}, "n/a"),
        ("MLX device", {"mlx_device": "cpu"}, "warn"),
        ("MLX device", {"mlx_version": None, "mlx_device": None}, "n/a"),
        ("PyTorch MPS", {"mps_problem": "MPS not built into this torch"}, "fail"),
        ("PyTorch MPS", {"torch_version": None, "mps_problem": "torch is not installed"}, "n/a"),
        ("Core ML prediction", {"coreml_problem": ROSETTA_COREML}, "fail"),
        ("Core ML prediction", {"coreml_problem": "coremltools is not installed"}, "n/a"),
    ],
)
def test_one_problem_on_a_mac(name: str, changes: dict[str, Any], status: str) -> None:
    result = checks(MAC, **changes)
    assert result[name].status == status
    others = {n: c.status for n, c in result.items() if n != name and c.status != "ok"}
    assert others == {}
    if status in ("warn", "fail") and name != "Core ML prediction":
        assert result[name].fix, "a warning or failure says how to fix it"


def test_core_ml_under_rosetta_fails_and_says_what_to_do() -> None:
    check = checks(MAC, coreml_problem=ROSETTA_COREML)["Core ML prediction"]
    assert check.status == "fail"
    assert "use an arm64 Python" in check.line()


def test_mps_fallback_warning_names_the_value() -> None:
    check = checks(MAC, mps_fallback="1")["PYTORCH_ENABLE_MPS_FALLBACK"]
    assert "=1" in check.detail
    assert "CPU" in check.detail


def test_load_detail_gives_the_numbers() -> None:
    check = checks(MAC, load_average=9.5, cpu_count=8)["machine load"]
    assert "9.50" in check.detail
    assert "8 cores" in check.detail


def test_check_line_format() -> None:
    assert Check("x", "ok", "fine").line() == "[  ok] x: fine"
    assert Check("y", "fail", "bad", "do z").line() == "[fail] y: bad — fix: do z"


def test_gather_on_this_linux_machine() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("this test describes a Linux machine")
    facts = gather()
    assert facts.platform == sys.platform
    assert facts.rosetta is False
    assert facts.thermal_state is None
    assert facts.low_power_mode is None
    assert facts.cpu_count >= 1
    result = run_checks(facts)
    assert [c.name for c in result] == [check(facts).name for check in CHECKS]
    for c in result:
        assert LINE.match(c.line()), c.line()
        assert "\n" not in c.line()
    by_name = {c.name: c for c in result}
    assert by_name["native Python"].status == "n/a"
    assert "Core ML prediction needs macOS" in by_name["Core ML prediction"].line()
    assert all(c.status != "fail" for c in result)


def _doctor_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTORCH_ENABLE_MPS_FALLBACK"}


def _assert_doctor_output(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(CHECKS)
    for line in lines:
        assert LINE.match(line), line
    assert "Core ML prediction needs macOS" in done.stdout
    assert done.stderr == ""  # no import-time noise from coremltools, no traceback


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="expects this Linux machine")
def test_doctor_cli_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfci.cli", "doctor"],
        capture_output=True,
        text=True,
        env=_doctor_env(),
        timeout=300,
        check=False,
    )
    _assert_doctor_output(done)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="expects this Linux machine")
def test_doctor_cli_entry_point() -> None:
    script = shutil.which("perfci", path=str(Path(sys.executable).parent))
    assert script is not None, "the perfci console script is installed next to python"
    done = subprocess.run(
        [script, "doctor"],
        capture_output=True,
        text=True,
        env=_doctor_env(),
        timeout=300,
        check=False,
    )
    _assert_doctor_output(done)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="expects this Linux machine")
def test_gather_imports_no_framework_that_cannot_pass_here() -> None:
    """Versions come from installed metadata; torch and coremltools (seconds to import)
    are imported only on macOS, where MPS and Core ML can exist."""
    code = (
        "import sys; from perfci.doctor import gather; facts = gather(); "
        "print(sorted(m for m in ('torch', 'coremltools', 'sklearn') if m in sys.modules)); "
        "print(facts.torch_version, facts.mlx_version)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    imported, versions = done.stdout.splitlines()
    assert imported == "[]"
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    assert versions == f"{installed('torch')} {installed('mlx')}"


def test_coremltools_noise_is_kept_inside_doctor(capfd: pytest.CaptureFixture[str]) -> None:
    """What coremltools logs and warns while doctor imports it is captured, not printed,
    so doctor can still report a native library it failed to load."""
    import logging
    import warnings

    from perfci.doctor import _quiet_logger

    logger = logging.getLogger("coremltools.models.model")
    with _quiet_logger("coremltools") as captured:
        logger.warning("Failed to load _MLModelProxy: No module named 'libcoremlpython'")
        warnings.warn("Torch version 9.9 has not been tested with coremltools", stacklevel=1)
    assert captured.messages == ["Failed to load _MLModelProxy: No module named 'libcoremlpython'"]
    assert capfd.readouterr().err == ""
    assert logging.getLogger("coremltools").propagate is True  # put back as it was


@pytest.mark.parametrize(
    ("fastest", "slowest", "status"),
    [(100e-6, 110e-6, "ok"), (100e-6, 124e-6, "ok"), (105e-6, 200e-6, "warn")],
)
def test_a_machine_whose_speed_moves_is_warned_of_with_the_figures(
    fastest: float, slowest: float, status: str
) -> None:
    check = checks(LINUX, steadiness=Steadiness(fastest, slowest, 10))["steady speed"]
    assert check.status == status
    assert f"{fastest * 1e6:.0f} µs" in check.detail and f"{slowest * 1e6:.0f} µs" in check.detail
    assert checks(LINUX)["steady speed"].status == "n/a"  # timed only when asked


def test_the_probe_times_windows_of_the_workload() -> None:
    found = probe(seconds=0.3, window_s=0.05)
    assert found.windows >= 3 and 0 < found.fastest <= found.slowest


def test_doctor_probe_prints_the_steadiness_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfci.cli", "doctor", "--probe"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    line = next(x for x in done.stdout.splitlines() if "steady speed" in x)
    assert line.startswith(("[  ok]", "[warn]")) and "windows" in line
