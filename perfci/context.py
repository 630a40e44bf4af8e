"""Which commit and which CI run a measurement belongs to: from git, or GitHub Actions."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.git import output as _git
from perfci.github.event import ContextError, load_payload
from perfci.results import CommitInfo


@dataclass(frozen=True)
class RunContext:
    trigger: str
    pr_number: int | None
    ci_url: str | None
    branch: str | None
    head_sha: str | None


def _event_payload(env: dict[str, str]) -> dict[str, Any]:
    """The payload as the one Actions-event reader reads it (perfci.github.event), or {}
    when it cannot: a measurement does not fail for its CI metadata (`perfci context`
    is where a bad payload is one line and exit 2)."""
    try:
        return load_payload(env)
    except ContextError:
        return {}


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


def resolve_commit(cwd: Path, ref: str) -> str | None:
    """The full sha of the commit `ref` names (a sha or prefix, a branch, a tag, `HEAD~1`...)
    in the repository at `cwd`; None outside git or when git does not know it."""
    if not ref or ref.startswith("-"):  # never an option to git
        return None
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") or None


def _current_branch(cwd: Path) -> str | None:
    return _git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD") or None


def _on_first_parent_chain(cwd: Path, sha: str, branch: str) -> bool:
    """Whether `sha` is on `branch`'s first-parent history: the first-parent walk from the
    branch's tip down to the first commit that `sha` contains ends right above `sha`."""
    tip = _git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
    if not tip or tip == sha:
        return tip == sha
    out = _git(cwd, "rev-list", "--first-parent", "--parents", tip, f"^{sha}", "--")
    oldest = out.splitlines()[-1].split() if out else []
    return len(oldest) > 1 and oldest[1] == sha


def branch_of(cwd: Path, sha: str) -> str | None:
    """The branch `sha` (full) was made on, as far as git can tell: the current branch when
    HEAD is `sha`; else the one local branch whose first-parent history holds it (main or
    master when several do, as a trunk's older commits are on every branch cut from it);
    None when git cannot tell."""
    current = _current_branch(cwd)
    if current is not None and _git(cwd, "rev-parse", "HEAD") == sha:
        return current
    listed = _git(cwd, "for-each-ref", "--contains", sha, "--format=%(refname:short)", "refs/heads")
    holding = [b for b in (listed or "").split() if _on_first_parent_chain(cwd, sha, b)]
    if len(holding) == 1:
        return holding[0]
    return next((trunk for trunk in ("main", "master") if trunk in holding), None)


def commit_from_git(
    cwd: Path, sha: str | None = None, find_branch: bool = True
) -> CommitInfo | None:
    """Metadata of `sha` (a full or abbreviated sha; HEAD when None) from the repository at
    `cwd`, or None outside git or when git does not know the commit (a shallow clone of a
    PR merge, say). The branch is the one `branch_of` finds (with `find_branch`)."""
    full = resolve_commit(cwd, sha or "HEAD")
    if full is None or (sha is not None and not full.startswith(sha.lower())):
        return None
    out = _git(cwd, "log", "-1", "--format=%H%n%P%n%aI%n%s", full, "--")
    if out is None:
        return None
    full_sha, parents, author_time, *subject = [*out.split("\n"), ""]
    return CommitInfo(
        sha=full_sha,
        parents=tuple(parents.split()),
        branch=branch_of(cwd, full_sha) if find_branch else None,
        author_time=author_time or None,
        subject=subject[0] or None,
    )


def with_git_metadata(cwd: Path, commit: CommitInfo) -> CommitInfo:
    """`commit` completed from the repository at `cwd` when git knows it: the full sha,
    parents, author time and subject from git; the branch as recorded, else the one git
    finds. A commit git does not know keeps what was recorded."""
    known = commit_from_git(cwd, commit.sha, find_branch=commit.branch is None)
    if known is None:
        return commit
    return dataclasses.replace(known, branch=commit.branch or known.branch)


def current_commit(cwd: Path, context: RunContext) -> CommitInfo | None:
    """The commit being measured: the PR head in Actions, else the checkout's HEAD."""
    commit = commit_from_git(cwd, context.head_sha)
    if commit is None and context.head_sha:
        return CommitInfo(sha=context.head_sha, branch=context.branch)
    if commit is not None and context.branch:  # the CI system knows the branch for sure
        return dataclasses.replace(commit, branch=context.branch)
    return commit


def first_parent_log(cwd: Path, sha: str, limit: int) -> list[CommitInfo]:
    """`sha` (full) and up to `limit` of its first-parent ancestors, newest first, each
    with its parents, author time and subject, from one `git log`; empty when git in `cwd`
    does not know `sha`. In a shallow clone the oldest commit shows no parents: see
    `shallow_clone`."""
    if not sha or sha.startswith("-"):  # never an option to git
        return []
    out = _git(
        cwd, "log", "--first-parent", "--no-show-signature", f"--max-count={limit + 1}",
        "--format=%H%x00%P%x00%aI%x00%s", sha, "--",
    )  # fmt: skip
    commits = []
    for line in (out or "").splitlines():
        full, parents, author_time, subject = [*line.split("\0", 3), "", "", ""][:4]
        commits.append(
            CommitInfo(full, tuple(parents.split()), None, author_time or None, subject or None)
        )
    return commits if commits and commits[0].sha == sha else []


def shallow_clone(cwd: Path) -> bool:
    """Whether the repository at `cwd` is a shallow clone: its oldest commits' parents are
    missing there, not absent, so a commit without parents need not be a root."""
    return _git(cwd, "rev-parse", "--is-shallow-repository") == "true"


def first_parent_chain(cwd: Path, sha: str, limit: int = 500) -> list[str]:
    """`sha` and its first-parent ancestors from git (empty when git does not know it)."""
    out = _git(cwd, "rev-list", "--first-parent", f"--max-count={limit}", sha, "--")
    return out.split() if out else []
