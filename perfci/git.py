"""git, the one way perfci runs it: for the run context, the refs, the event's
merge-base and the A/B worktrees alike."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str, timeout: float | None = 10) -> subprocess.CompletedProcess[str]:
    """git `args` in `cwd`: output captured as text (undecodable bytes replaced); OSError
    when git cannot start, TimeoutExpired past `timeout` seconds (None: no limit, for a
    checkout)."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )


def output(cwd: Path, *args: str) -> str | None:
    """git's output, stripped; None when git cannot run, fails or takes too long."""
    try:
        done = git(cwd, *args)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def merge_base(cwd: Path, a: str, b: str) -> str | None:
    """The best common ancestor of commits `a` and `b` (full shas), or None."""
    return output(cwd, "merge-base", a, b) or None
