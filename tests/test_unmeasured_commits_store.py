"""The store's side of unmeasured commits, on SQLite and PostgreSQL, with real git
repositories: what is stored with a run of main's history (and what is not), in one
transaction and one `git log`; and every reader of commits coping with commits that have
no runs: the chain, the branch's tip, detect's series and ranges, the dashboard, the
runs list."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import benchmark, run
from site_data import page_data
from sqlalchemy import func, select
from test_ingest_git import commit, git, new_repo

from perfci.alerts import check_history
from perfci.context import first_parent_log, shallow_clone
from perfci.dashboard import build_site, naming
from perfci.results import RunResult
from perfci.store import Store
from perfci.store.alert_rows import series_points
from perfci.store.ancestry import lineages
from perfci.store.ingest import ingest_runs
from perfci.store.models import Commit, CommitParent, Run
from perfci.store.queries import IN_CHUNK, branch_tip, first_parent_chain, list_runs, stored_as

GEMM_PAGE = naming.benchmark_page("suites/mlx/test_gemm", "test_gemm")


def _run(
    sha: str,
    day: int,
    latency: float = 1e-3,
    seed: int = 0,
    parents: tuple[str, ...] = (),
    **info: Any,
) -> RunResult:
    """A run of `sha`; without `parents` one that names none (git in the checkout knows
    them), with them one as `perfci run` writes it."""
    result = run(
        commit=sha,
        parents=parents,
        benchmarks=(benchmark(latency=latency, seed=seed),),
        started_at=f"2026-11-{day:02d}T10:{seed % 60:02d}:00+00:00",
        subject=None,
    )
    return replace(result, run=replace(result.run, **info)) if info else result


def _commits(store: Store) -> dict[str, tuple[str | None, str | None, datetime | None, list[str]]]:
    """sha → (branch, subject, author time, parents in order)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Commit.id, Commit.sha, Commit.branch, Commit.subject, Commit.author_time)
        ).all()
        parents = conn.execute(
            select(CommitParent.commit_id, CommitParent.parent_sha).order_by(
                CommitParent.commit_id, CommitParent.position
            )
        ).all()
    return {
        sha: (branch, subject, when, [p for cid, p in parents if cid == id_])
        for id_, sha, branch, subject, when in rows
    }


def _measured(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(select(Commit.sha).join(Run, Run.commit_id == Commit.id)).scalars())


def _history(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    repo = new_repo(tmp_path / "repo")
    return repo, [commit(repo, f"change {i} <b>") for i in range(n)]


def test_the_unmeasured_ancestors_are_stored_as_commits_without_runs(
    store: Store, tmp_path: Path
) -> None:
    repo, shas = _history(tmp_path, 7)
    ingest_runs(store, [_run(shas[2], 1)], checkout=repo)
    stored = _commits(store)
    assert set(stored) == set(shas[:3])  # back to the root
    assert stored[shas[0]][3] == [] and stored[shas[1]][3] == [shas[0]]
    ingest_runs(store, [_run(shas[6], 2)], checkout=repo)
    stored = _commits(store)
    assert set(stored) == set(shas) and _measured(store) == {shas[2], shas[6]}
    for i in range(1, 7):
        branch, subject, when, parents = stored[shas[i]]
        assert (branch, subject, parents) == ("main", f"change {i} <b>", [shas[i - 1]])
        stamp = datetime.fromisoformat(git(repo, "log", "-1", "--format=%aI", shas[i]))
        assert when == stamp.astimezone(UTC).replace(tzinfo=None)
    before = stored[shas[4]]
    ingest_runs(store, [_run(shas[4], 3)], checkout=repo)  # measured later: one row
    with store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).where(Commit.sha == shas[4])).scalar()
    assert rows == 1 and _commits(store)[shas[4]] == before
    assert _measured(store) == {shas[2], shas[4], shas[6]}


def test_a_run_outside_main_history_or_without_git_stores_only_its_commit(
    store: Store, tmp_path: Path
) -> None:
    repo, shas = _history(tmp_path, 4)
    ingest_runs(store, [_run(shas[0], 1)], checkout=repo)
    ingest_runs(store, [_run(shas[3], 2, trigger="pull_request", pr_number=5)], checkout=repo)
    ingest_runs(store, [_run(shas[3], 3, trigger="ab")], checkout=repo)
    assert set(_commits(store)) == {shas[0], shas[3]}
    ingest_runs(store, [_run(shas[3], 4)], checkout=None)  # git is not asked
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ingest_runs(store, [_run(shas[3], 5, seed=1)], checkout=elsewhere)  # git does not know it
    assert set(_commits(store)) == {shas[0], shas[3]}
    # stored before without parents: a run naming none learns nothing; one naming them does
    ingest_runs(store, [_run(shas[3], 6, seed=2)], checkout=repo)
    assert set(_commits(store)) == {shas[0], shas[3]}
    ingest_runs(store, [_run(shas[3], 7, seed=3, parents=(shas[2],))], checkout=repo)
    assert set(_commits(store)) == set(shas)


def test_a_failed_batch_stores_no_commit_at_all(store: Store, tmp_path: Path) -> None:
    repo, shas = _history(tmp_path, 5)
    broken = replace(_run(shas[1], 2), commit=None)
    with pytest.raises(ValueError, match="needs a commit"):
        ingest_runs(store, [_run(shas[4], 1), broken], checkout=repo)
    assert _commits(store) == {}


def _counting_git(tmp_path: Path) -> Path:
    """A `git` first on PATH that logs each call's subcommand, then runs the real one."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True)
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    log = tmp_path / "git-calls"
    shim.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {real.stdout.strip()} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return log


def test_one_git_log_a_walk_and_none_when_the_parent_is_stored(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, shas = _history(tmp_path, 34)
    log = _counting_git(tmp_path)
    monkeypatch.setenv("PATH", f"{log.parent / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ingest_runs(store, [_run(shas[29], 1), _run(shas[29], 1, seed=1)], checkout=repo)
    # one walk for both runs of the commit; it reached a root, so git is asked once more
    # whether the clone is shallow (a shallow clone's oldest commit is no root)
    assert log.read_text().split() == ["log", "rev-parse"]
    assert len(_commits(store)) == 30
    log.unlink()
    ingest_runs(store, [_run(shas[32], 2, parents=(shas[31],))], checkout=repo)
    assert log.read_text().split() == ["log"]  # the walk ends at 29, stored
    assert len(_commits(store)) == 33
    log.unlink()
    ingest_runs(store, [_run(shas[33], 3, parents=(shas[32],))], checkout=repo)
    assert not log.exists() and len(_commits(store)) == 34  # its parent is stored: no git


def test_a_walk_is_bounded_and_ends_above_a_shallow_clones_boundary(tmp_path: Path) -> None:
    repo, shas = _history(tmp_path, 8)
    walk = first_parent_log(repo, shas[7], limit=3)
    assert not shallow_clone(repo)
    assert [c.sha for c in walk] == shas[7:3:-1]  # the commit and 3 ancestors
    assert walk[1].parents == (shas[5],) and walk[1].subject == "change 6 <b>"
    assert [c.sha for c in first_parent_log(repo, shas[2], limit=1000)] == shas[2::-1]
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{repo}", str(shallow)], check=True
    )
    # the oldest commit of the clone has its parents missing, not absent
    walk = first_parent_log(shallow, shas[7], 1000)
    assert [c.sha for c in walk] == shas[7:4:-1] and walk[-1].parents == ()
    assert shallow_clone(shallow) and first_parent_log(shallow, shas[1], 1000) == []


def test_a_shallow_clones_oldest_commit_is_not_stored_as_a_root(
    store: Store, tmp_path: Path
) -> None:
    repo, shas = _history(tmp_path, 8)
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{repo}", str(shallow)], check=True
    )
    ingest_runs(store, [_run(shas[7], 1)], checkout=shallow)
    stored = _commits(store)
    assert set(stored) == {shas[7], shas[6]} and stored[shas[6]][3] == [shas[5]]
    ingest_runs(store, [_run(shas[7], 2, seed=1)], checkout=repo)  # already walked
    ingest_runs(store, [_run(shas[6], 3, parents=(shas[5],))], checkout=repo)  # a full clone
    assert set(_commits(store)) == set(shas)
    assert first_parent_chain(store, shas[7]) == shas[::-1]


def test_a_walk_is_read_once_for_a_batch_and_cut_at_the_nearest_stored_commit(
    store: Store, tmp_path: Path
) -> None:
    repo, shas = _history(tmp_path, 12)
    ingest_runs(store, [_run(shas[3], 1)], checkout=repo)
    results = [_run(shas[i], i, parents=(shas[i - 1],)) for i in (11, 8, 9)]
    walks = lineages(store, results, repo, limit=5)
    # 9's parent is 8, in the batch: nothing to read; 8's walk is part of 11's
    assert sorted(walks) == [0, 1]
    assert [c.sha for c in walks[0]] == shas[11:5:-1]
    assert [c.sha for c in walks[1]] == shas[8:5:-1]
    ingest_runs(store, results, checkout=repo)
    assert set(_commits(store)) == set(shas)  # the full walks reach 3, stored
    assert first_parent_chain(store, shas[11]) == shas[::-1]


def test_the_chain_the_tip_and_detect_go_through_unmeasured_commits(
    store: Store, tmp_path: Path
) -> None:
    """12 runs of commits 1-3, a push of 4-6 measured at 6 (3 runs, ×3 slower), stored
    first; 1-3 stored after it, and measured first: the tip is still 6, the chain
    reaches 0, and the change lies in 3..6."""
    repo, shas = _history(tmp_path, 7)
    push = [_run(shas[6], 20, latency=3e-3, seed=s) for s in range(3)]
    ingest_runs(store, push, checkout=repo)
    before = [_run(shas[i], i, seed=i * 10 + r) for i in (1, 2, 3) for r in range(4)]
    ingest_runs(store, before, checkout=repo)
    assert branch_tip(store, "main") == shas[6]
    assert first_parent_chain(store, shas[6]) == shas[::-1]
    assert first_parent_chain(store, shas[6], limit=3) == shas[6:3:-1]
    points = next(iter(series_points(store, first_parent_chain(store, shas[6])).values()))
    assert sorted({p.position for p in points}) == [1, 2, 3, 6]
    found = check_history(store, "main")
    (alert,) = [a for a in found.alerts if a.metric == "latency"]
    assert (alert.kind, alert.last_good_commit, alert.commit) == ("regression", shas[3], shas[6])
    assert [r.sha for r in list_runs(store, 100)].count(shas[4]) == 0
    assert len(list_runs(store, 100)) == 15


def test_series_read_a_chain_longer_than_one_in_of_shas(store: Store, tmp_path: Path) -> None:
    repo, shas = _history(tmp_path, IN_CHUNK + 40)
    first = [_run(shas[0], 1, seed=s) for s in range(2)]
    ingest_runs(store, [*first, _run(shas[-1], 2)], checkout=repo)
    chain = first_parent_chain(store, shas[-1], limit=len(shas) + 1)
    assert len(chain) == len(shas)
    (points,) = [
        p for (_, metric, _), p in series_points(store, chain).items() if metric == "latency"
    ]
    assert [p.position for p in points] == [0, 0, len(shas) - 1]


def test_the_dashboard_draws_no_point_at_an_unmeasured_commit(store: Store, tmp_path: Path) -> None:
    repo, shas = _history(tmp_path, 8)
    ingest_runs(store, [_run(shas[i], i) for i in (2, 3)], checkout=repo)
    ingest_runs(store, [_run(shas[7], 7)], checkout=repo)
    out = tmp_path / "site"
    build_site(store, out)
    data = page_data(out, GEMM_PAGE)
    assert [c[0] for c in data["commits"]] == [shas[2], shas[3], shas[7]]
    html = (out / GEMM_PAGE).read_text()
    header = json.loads(re.search(r'id="perfci-page">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    (chunk,) = [
        json.loads((out / p).read_text()[len("perfciChunk(") : -3]) for p in header["chunks"]
    ]
    # by first-parent position from the oldest measured commit: 4-6 are gaps, 0-1 left out
    assert sorted(int(p) for p in chunk["commits"]) == [0, 1, 5]
    assert shas[7][:10] in (out / "index.html").read_text()  # the tip, a measured commit


def test_a_run_is_kept_as_it_was_stored(store: Store, tmp_path: Path) -> None:
    """`stored_as`: the file of a run as the store holds it, for perfci-data."""
    whole = run(benchmarks=(benchmark(), benchmark(name="test_other", seed=1)))
    part = replace(
        whole, benchmarks=whole.benchmarks[:1], run=replace(whole.run, trigger="confirm")
    )
    assert stored_as(store, whole) is None
    ingest_runs(store, [part], checkout=None)
    kept = stored_as(store, whole)
    assert kept is not None and kept.run.trigger == "confirm"
    assert kept.benchmarks == part.benchmarks and kept.run.run_id == whole.run.run_id
