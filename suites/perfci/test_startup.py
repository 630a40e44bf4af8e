"""perfci measures itself: what loading the plugin adds to pytest's start-up.

Both variants start a fresh interpreter that collects one empty test; the only difference
is `-p no:perfci`. The difference of their medians is the plugin's cost.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("plugin", ["with-perfci", "without-perfci"])
def test_pytest_startup(perf, tmp_path: Path, plugin: str) -> None:
    (tmp_path / "test_empty.py").write_text("def test_nothing():\n    pass\n")
    disable = ["-p", "no:perfci"] if plugin == "without-perfci" else []
    command = [sys.executable, "-m", "pytest", *disable, "-q", "-p", "no:cacheprovider"]
    command += ["--collect-only", str(tmp_path)]

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)

    def check(done: subprocess.CompletedProcess[str]) -> None:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 test collected" in done.stdout

    perf(start, check=check)
