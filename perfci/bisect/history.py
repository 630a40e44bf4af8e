"""The commits a bisection searches: the first-parent chain from just after the good end
up to the bad end, oldest first, as git in the repository has it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from perfci.context import resolve_commit
from perfci.git import git


class RangeError(ValueError):
    """The ends given make no range to bisect; one line for the user."""


@dataclass(frozen=True)
class CommitRef:
    sha: str
    subject: str


@dataclass(frozen=True)
class Range:
    """`good` (known good), then `commits`: the first-parent commits after it, oldest
    first, the last of them the bad end."""

    good: CommitRef
    commits: tuple[CommitRef, ...]

    @property
    def bad(self) -> CommitRef:
        return self.commits[-1]


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return git(repo, *args, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RangeError(f"cannot run git in {repo}: {exc}") from None


def _resolve(repo: Path, flag: str, ref: str) -> str:
    sha = resolve_commit(repo, ref)
    if sha is None:
        shown = ref if ref.isprintable() else ascii(ref)[1:-1]
        raise RangeError(f"{flag} '{shown[:80]}' names no commit here")
    return sha


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return _run(repo, "merge-base", "--is-ancestor", older, newer).returncode == 0


def commit_range(repo: Path, good_ref: str, bad_ref: str) -> Range:
    """The range from `good_ref` to `bad_ref` in the repository at `repo`. RangeError
    when a ref names no commit, the ends are the same commit, good is not an ancestor of
    bad, or good is not on bad's first-parent history (a commit of a merged branch)."""
    good = _resolve(repo, "--good", good_ref)
    bad = _resolve(repo, "--bad", bad_ref)
    if good == bad:
        raise RangeError(f"--good and --bad are the same commit {good[:12]}: nothing to bisect")
    if not _is_ancestor(repo, good, bad):
        swapped = (
            " (they are the other way round: swap them)" if _is_ancestor(repo, bad, good) else ""
        )
        raise RangeError(f"--good {good[:12]} is not an ancestor of --bad {bad[:12]}{swapped}")
    # each line: a commit of bad's first-parent chain that good lacks, its parents, subject
    done = _run(
        repo, "log", "--first-parent", "--reverse", "--format=%H %P%x00%s", f"{good}..{bad}", "--"
    )
    if done.returncode != 0:
        raise RangeError(f"git log {good[:12]}..{bad[:12]} failed: {done.stderr.strip()[:200]}")
    commits, first_parent = [], None
    for line in done.stdout.splitlines():
        shas, _, subject = line.partition("\0")
        sha, *parents = shas.split()
        if first_parent is None:
            first_parent = parents[0] if parents else ""
        commits.append(CommitRef(sha, subject))
    if first_parent != good:
        raise RangeError(
            f"--good {good[:12]} is not on the first-parent history of --bad {bad[:12]} "
            "(a commit of a merged branch?): give a commit of that history"
        )
    return Range(CommitRef(good, _subject(repo, good)), tuple(commits))


def _subject(repo: Path, sha: str) -> str:
    return _run(repo, "log", "-1", "--format=%s", sha, "--").stdout.strip()
