"""History keeps its chain across commits that were not measured: a push of several
commits measures only the newest, and storing its run from a checkout also stores the
commits between it and the store's history (sha, subject, author time, branch, parents;
no runs). Real git repositories, the CLI through its entry point, real SQLite and
PostgreSQL stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factories import benchmark, run, write
from test_cli import perfci
from test_ingest_git import commit, new_repo


def _files(tmp_path: Path, shas: list[str], counts: dict[int, int], slow_from: int) -> list[Path]:
    """Results files: `counts[i]` runs of commit i (×3 slower from `slow_from` on), each
    naming only its sha: git completes the rest."""
    files = []
    for i, count in counts.items():
        for r in range(count):
            latency = 1e-3 * (3 if i >= slow_from else 1)
            result = run(
                commit=shas[i],
                benchmarks=(benchmark(latency=latency, seed=i * 10 + r),),
                started_at=f"2026-11-{i + 1:02d}T10:{r:02d}:00+00:00",
                subject=None,
            )
            files.append(write(result, tmp_path / f"run-{i}-{r}.json"))
    return files


def _detect(repo: Path, url: str) -> dict[str, Any]:
    done = perfci("detect", "--db", url, "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_push_of_several_commits_keeps_the_history_behind_its_head(tmp_path: Path) -> None:
    """Commits 1-3 measured 4 times each, then a push whose head, commit 6, is measured
    (3 runs, ×3 slower); 4 and 5 never are. Detect walks from 6 through 4 and 5 to the
    history before them, and the change lies in 3..6."""
    repo = new_repo(tmp_path / "repo")
    shas = [commit(repo, f"change {i}") for i in range(7)]
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    before = _files(tmp_path, shas, {1: 4, 2: 4, 3: 4}, slow_from=4)
    done = perfci("ingest", *map(str, before), "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    pushed = _files(tmp_path, shas, {6: 3}, slow_from=4)
    done = perfci("ingest", *map(str, pushed), "--db", url, cwd=repo)
    assert done.returncode == 0, done.stderr

    found = _detect(repo, url)
    (series,) = [s for s in found["series"] if s["metric"] == "latency"]
    assert series["runs"] == 15  # commit 6's runs and the 12 before the push
    (alert,) = [a for a in found["alerts"] if a["metric"] == "latency"]
    assert alert["kind"] == "regression" and alert["magnitude"] > 2.5
    assert (alert["last_good_commit"], alert["commit"]) == (shas[3], shas[6])
