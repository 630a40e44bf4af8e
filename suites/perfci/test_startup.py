"""perfci measures itself: what loading the plugin adds to pytest's start-up.

Both variants start a fresh interpreter that collects one empty test with pytest and
pytest-benchmark alone (other installed plugins are not loaded); the only difference is
`-p perfci.plugin`. The difference of their medians is the plugin's cost.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("plugin", ["with-perfci", "without-perfci"])
def test_pytest_startup(perf, tmp_path: Path, plugin: str) -> None:
    (tmp_path / "test_empty.py").write_text("def test_nothing():\n    pass\n")
    load = ["-p", "pytest_benchmark.plugin"]
    if plugin == "with-perfci":
        load += ["-p", "perfci.plugin"]
    command = [sys.executable, "-m", "pytest", *load, "-q", "-p", "no:cacheprovider"]
    command += ["--collect-only", str(tmp_path)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )

    def check(done: subprocess.CompletedProcess[str]) -> None:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 test collected" in done.stdout

    perf(start, check=check)
