"""The README is what a newcomer runs: two set-up commands, the second is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, re.DOTALL)


def test_the_readme_has_exactly_two_set_up_commands() -> None:
    main_job, tests = setup_commands()
    assert "perfci run" in main_job and main_job.count("perfci run") == 2  # the second compares
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    _, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()
