"""The README is what a newcomer runs: two set-up commands, the second is what CI runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, re.DOTALL)


def test_the_readme_has_exactly_two_set_up_commands() -> None:
    main_job, tests = setup_commands()
    assert main_job.count("perfci run") == 1  # the run, stored, with its dashboard
    assert "perfci ab --base HEAD~1 --" in main_job  # verdicts measured in the same job
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    _, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def commands_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]


def command_help(name: str) -> str:
    """`perfci NAME --help` as the command prints it."""
    from perfci.cli import build_parser

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser(name).parse_args([name, "--help"])
    return out.getvalue()


def test_every_option_of_every_command_is_in_the_commands_reference() -> None:
    from perfci.cli import COMMANDS

    section = commands_section()
    missing = {
        f"perfci {name} {option}"
        for name in COMMANDS
        for option in set(re.findall(r"--[a-z][a-z0-9-]*", command_help(name))) - {"--help"}
        if option not in section
    }
    assert missing == set()


def test_every_exit_status_is_in_the_commands_reference() -> None:
    from perfci.github.trust import REFUSED

    section = commands_section()
    status = section.split("Exit status:", 1)[1].split("\n\n", 1)[0]
    for said in ("0 success", "1 failed benchmarks", "2 bad input", f"{REFUSED} refused"):
        assert said in status, said
