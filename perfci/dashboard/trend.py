"""The history the charts draw: the first-parent chain of the branch's newest commit as the
store knows it (the walk `perfci detect` and the baselines take), oldest first. A position
is a commit, not a run: every run of a commit outside pull requests sits at that commit,
so a re-run of an old commit stays where the commit is, and the newest position is the
branch's newest commit whatever was stored last. A commit of the chain without runs (one
of a push's commits that was not measured, stored from git's history) is a position
without a point, so the axis stays by first-parent position; the unmeasured commits
older than the chain's oldest run are left out. Runs of commits off the chain (pull
requests, other branches) are not history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from perfci.dashboard.data import Catalog
from perfci.results import NOT_HISTORY
from perfci.store import Store
from perfci.store.catalog import RunSummary
from perfci.store.queries import branch_tip, commit_count, first_parent_chain

CHUNK_COMMITS = 100  # positions per history chunk


def chunk_of(position: int) -> int:
    return position // CHUNK_COMMITS


def _order(run: RunSummary) -> tuple[Any, int]:
    return (run.started_at, run.id)


@dataclass
class Trend:
    """The chain (`shas`, oldest first; a position is an index) and each position's runs
    outside pull requests, oldest first."""

    branch: str | None
    shas: list[str]
    runs: list[list[RunSummary]]
    position: dict[int, int] = field(default_factory=dict)  # run id → position
    at: dict[int, int] = field(default_factory=dict)  # commit id → position
    rows: dict[int, list[Any]] = field(default_factory=dict)
    run_rows: dict[int, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, store: Store, catalog: Catalog, branch: str | None = None) -> Trend:
        """`branch` (default: `Catalog.trend_branch`) from its newest commit down."""
        branch = catalog.trend_branch() if branch is None else branch
        tip = branch_tip(store, branch)
        if tip is None:
            return cls(branch, [], [])
        shas = first_parent_chain(store, tip, limit=commit_count(store) + 1)[::-1]
        measured = {run.sha for run in catalog.runs.values()}
        # from the oldest commit with a run: the unmeasured ones before it draw nothing
        shas = shas[next((i for i, sha in enumerate(shas) if sha in measured), 0) :]
        where = {sha: i for i, sha in enumerate(shas)}
        runs: list[list[RunSummary]] = [[] for _ in shas]
        at: dict[int, int] = {}
        for run in sorted(catalog.runs.values(), key=_order):
            i = where.get(run.sha)
            if i is None:
                continue
            at[run.commit_id] = i
            if run.trigger not in NOT_HISTORY:
                runs[i].append(run)
        position = {r.id: i for i, rs in enumerate(runs) for r in rs}
        return cls(branch, shas, runs, position, at)

    @property
    def chunks(self) -> int:
        return chunk_of(len(self.shas) - 1) + 1 if self.shas else 0

    def signature(self, chunk: int) -> list[list[Any]]:
        """What a chunk's history is made of: each position's commit and run ids."""
        start = chunk * CHUNK_COMMITS
        return [
            [sha, [r.id for r in runs]]
            for sha, runs in zip(
                self.shas[start : start + CHUNK_COMMITS],
                self.runs[start : start + CHUNK_COMMITS],
                strict=True,
            )
        ]

    def state(self) -> list[list[Any]]:
        return [row for c in range(self.chunks) for row in self.signature(c)]

    def run_ids(self, chunk: int) -> list[int]:
        start = chunk * CHUNK_COMMITS
        return [r.id for runs in self.runs[start : start + CHUNK_COMMITS] for r in runs]

    def commit_row(self, at: int) -> list[Any]:
        """What a chart's tooltip and axis show of the commit at `at` (a position with
        runs): sha, subject, date (its author date, else the day it was first measured);
        made once per build."""
        row = self.rows.get(at)
        if row is None:
            first = self.runs[at][0]
            when = first.author_time or first.started_at
            row = self.rows[at] = [first.sha, first.subject or "", when.strftime("%Y-%m-%d")]
        return row

    def run_row(self, run: RunSummary) -> list[Any]:
        """A run as a chart lists it: id, machine, when it was stored (made once per build)."""
        row = self.run_rows.get(run.id)
        if row is None:
            row = self.run_rows[run.id] = [
                run.id,
                run.machine_id,
                run.started_at.strftime("%Y-%m-%d %H:%M"),
            ]
        return row

    def newest(self) -> dict[int, int]:
        """Per machine: the newest position it measured."""
        out: dict[int, int] = {}
        for i, runs in enumerate(self.runs):
            for run in runs:
                out[run.machine_id] = i
        return out

    def machine_runs(self, at: int) -> dict[int, list[RunSummary]]:
        out: dict[int, list[RunSummary]] = defaultdict(list)
        for run in self.runs[at]:
            out[run.machine_id].append(run)
        return out
