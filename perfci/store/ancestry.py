"""The unmeasured commits behind a run: a push of several commits measures only the newest,
and history (detect, confirm, the dashboard's trend) walks the store's first-parent chain,
which would stop at the first commit the store lacks. So when a run of a branch's history
is stored from a checkout whose git knows its commit, the commit's first-parent ancestors
back to the nearest commit the store has are read from git (one `git log` a walk, at most
ANCESTRY_LIMIT commits, ending at a root), to be stored with the run as commits without
runs. This module reads them, before the write transaction; `perfci.store.ingest` stores
them in it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from perfci.context import first_parent_log, shallow_clone
from perfci.results import NOT_HISTORY, CommitInfo, RunResult
from perfci.store import Store
from perfci.store.models import Commit, CommitParent
from perfci.store.queries import IN_CHUNK

ANCESTRY_LIMIT = 1000  # ancestors read for one run: a long-unmeasured branch stays bounded


def _stored(store: Store, shas: set[str]) -> dict[str, str | None]:
    """Each of `shas` the store has, with its stored first parent (None: not recorded)."""
    wanted = sorted(shas)
    found: dict[str, str | None] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(wanted), IN_CHUNK):
            query = (
                select(Commit.sha, CommitParent.parent_sha)
                .outerjoin(
                    CommitParent,
                    (CommitParent.commit_id == Commit.id) & (CommitParent.position == 0),
                )
                .where(Commit.sha.in_(wanted[i : i + IN_CHUNK]))
            )
            found.update((sha, parent) for sha, parent in conn.execute(query))
    return found


def _rootless(store: Store, checkout: Path, walk: list[CommitInfo]) -> list[CommitInfo]:
    """`walk` without its last commit when that one shows no parents only because the
    clone is shallow (asked only when the store lacks it: a root it has ends the walk
    anyway)."""
    oldest = walk[-1] if len(walk) > 1 else None
    if oldest is None or oldest.parents or oldest.sha in _stored(store, {oldest.sha}):
        return walk
    return walk[:-1] if shallow_clone(checkout) else walk


def lineages(
    store: Store, results: Sequence[RunResult], checkout: Path, limit: int = ANCESTRY_LIMIT
) -> dict[int, list[CommitInfo]]:
    """By index in `results`: the commit of each run of a branch's history whose first
    parent is neither stored nor the commit of another run of `results`, with its
    first-parent ancestors, newest first, as git in `checkout` knows them (a commit git
    does not know has none). A commit on a walk already read takes its part of that walk
    instead of another `git log`; the store cuts each walk at its nearest stored commit."""
    history = {
        i: r.commit
        for i, r in enumerate(results)
        if r.commit is not None and r.run.trigger not in NOT_HISTORY
    }
    if not history:
        return {}
    batch = {c.sha for c in history.values()}
    stored = _stored(store, batch | {c.parents[0] for c in history.values() if c.parents})
    walked: dict[str, tuple[list[CommitInfo], int]] = {}  # sha → a walk holding it, where
    out: dict[int, list[CommitInfo]] = {}
    for i, commit in history.items():
        parent = commit.parents[0] if commit.parents else stored.get(commit.sha)
        if parent is None and commit.sha in stored:
            continue  # stored before without parents: this run says no more of them
        if parent is not None and (parent in stored or parent in batch):
            continue
        if commit.sha in walked:
            walk, at = walked[commit.sha]
            out[i] = walk[at : at + limit + 1]
            continue
        walk = _rootless(store, checkout, first_parent_log(checkout, commit.sha, limit))
        walked.update((c.sha, (walk, at)) for at, c in enumerate(walk) if c.sha not in walked)
        if walk:
            out[i] = walk
    return out
