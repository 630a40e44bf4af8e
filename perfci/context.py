"""Which commit and which CI run a measurement belongs to: from git, or GitHub Actions."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.results import CommitInfo


@dataclass(frozen=True)
class RunContext:
    trigger: str
    pr_number: int | None
    ci_url: str | None
    branch: str | None
    head_sha: str | None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _event_payload(env: dict[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def run_context(env: dict[str, str] | None = None) -> RunContext:
    """Trigger, PR number, run URL and head sha from the GitHub Actions environment
    (a manual run outside Actions)."""
    env = dict(os.environ) if env is None else env
    event = env.get("GITHUB_EVENT_NAME")
    if not event:
        return RunContext("manual", None, None, None, None)
    payload = _event_payload(env)
    pull = payload.get("pull_request") if isinstance(payload.get("pull_request"), dict) else None
    server, repo, run_id = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    ci_url = f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
    if pull is not None:
        head = pull.get("head") or {}
        return RunContext(
            trigger="pull_request",
            pr_number=pull.get("number") if isinstance(pull.get("number"), int) else None,
            ci_url=ci_url,
            branch=head.get("ref") or env.get("GITHUB_HEAD_REF"),
            head_sha=head.get("sha"),
        )
    trigger = "push" if event == "push" else "manual"
    return RunContext(trigger, None, ci_url, env.get("GITHUB_REF_NAME"), env.get("GITHUB_SHA"))


def commit_from_git(cwd: Path, sha: str | None = None) -> CommitInfo | None:
    """Metadata of `sha` (HEAD when None) from the repository at `cwd`, or None outside git
    or when git does not know the commit (a shallow clone of a PR merge, say)."""
    out = _git(cwd, "log", "-1", "--format=%H%n%P%n%aI%n%s", sha or "HEAD", "--")
    if out is None:
        return None
    full_sha, parents, author_time, *subject = [*out.split("\n"), ""]
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD") if sha is None else None
    return CommitInfo(
        sha=full_sha,
        parents=tuple(parents.split()),
        branch=None if branch in (None, "HEAD") else branch,
        author_time=author_time or None,
        subject=subject[0] or None,
    )


def current_commit(cwd: Path, context: RunContext) -> CommitInfo | None:
    """The commit being measured: the PR head in Actions, else the checkout's HEAD."""
    commit = commit_from_git(cwd, context.head_sha)
    if commit is None and context.head_sha:
        return CommitInfo(sha=context.head_sha, branch=context.branch)
    if commit is not None and context.branch and commit.branch is None:
        return CommitInfo(**{**commit.__dict__, "branch": context.branch})
    return commit


def first_parent_chain(cwd: Path, sha: str, limit: int = 500) -> list[str]:
    """`sha` and its first-parent ancestors from git (empty when git does not know it)."""
    out = _git(cwd, "rev-list", "--first-parent", f"--max-count={limit}", sha, "--")
    return out.split() if out else []
