"""One comparison path: `perfci compare`, the dashboard's pull-request page and files all
judge a head the same way, with perfci.toml's minimum effects and acknowledgements, along
one first-parent ancestry."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest
from factories import benchmark, run, sha, write
from test_cli import perfci

from perfci.baseline import ancestry
from perfci.dashboard import naming
from perfci.results import BenchmarkResult, RunResult
from perfci.store import open_store
from perfci.store.ingest import ingest_runs

PR = 7
GEMM = "suites/mlx/test_gemm"
CONV = "suites/torch/test_conv"
MAIN = [sha(f"main-{i}") for i in range(6)]
HEAD = sha("pull-head")
# perfci.toml: a wider minimum for the gemm (its +6% is then no change) and the conv's
# slowdown expected at the pull request's commit
CONFIG = f"""
[[benchmark]]
match = "{GEMM}::*"
min_effect = 0.10

[[acknowledge]]
benchmark = "{CONV}::test_conv"
metric = "latency"
commit = "{HEAD[:9]}"
reason = "exact convolution for accuracy"
"""


def _benchmarks(gemm: float, conv: float, seed: int) -> tuple[BenchmarkResult, ...]:
    return (
        benchmark("test_gemm", latency=gemm, seed=seed, suite=GEMM),
        benchmark("test_conv", {"backend": "torch"}, latency=conv, seed=seed + 50, suite=CONV),
    )


def _history() -> list[RunResult]:
    """Six runs of main, one a commit, then the pull request's run: the gemm 6% and the
    conv 30% slower."""
    out = [
        run(
            commit=c,
            parents=(MAIN[i - 1],) if i else (),
            benchmarks=_benchmarks(1e-3, 2e-3, seed=i),
            started_at=f"2026-11-{i + 1:02d}T10:00:00+00:00",
        )
        for i, c in enumerate(MAIN)
    ]
    head = run(
        commit=HEAD,
        parents=(MAIN[-1],),
        benchmarks=_benchmarks(1.06e-3, 2.6e-3, seed=99),
        started_at="2026-11-20T10:00:00+00:00",
    )
    pull = dataclasses.replace(head.run, trigger="pull_request", pr_number=PR)
    return [*out, dataclasses.replace(head, run=pull)]


Verdicts = dict[tuple[str, str], tuple[str, str | None]]


def _compare(cwd: Path, url: str) -> Verdicts:
    done = perfci(
        "compare", "--base", MAIN[-1], "--head", HEAD, "--format", "json", "--db", url, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return {
        (c["benchmark"], c["metric"]): (c["verdict"], c["acknowledged"])
        for c in json.loads(done.stdout)["comparisons"]
    }


def _page(cwd: Path, url: str) -> dict[tuple[str, str], str]:
    """The verdicts the pull request's page shows, by benchmark and metric."""
    out = cwd / "site"
    done = perfci("dashboard", "--db", url, "--out", str(out), cwd=cwd)
    assert done.returncode == 0, done.stderr
    text = (out / naming.pull_request_page(PR)).read_text()
    rows = re.findall(
        r'<tr id="c-\w+" class="verdict-(\w+)"><td>(\S+) <span.*?</td><td>(\w+) <span', text, re.S
    )
    return {(bench, metric): verdict for verdict, bench, metric in rows}


def _page_data(url: str) -> Verdicts:
    """What the page is made of, with the acknowledgements it carries."""
    from perfci.dashboard.data import load_catalog
    from perfci.dashboard.pulls import pull_requests

    store = open_store(url)
    try:
        (page,) = pull_requests(store, load_catalog(store)).values()
    finally:
        store.close()
    return {(r.benchmark, r.metric): (r.verdict, r.acknowledged or None) for r in page["rows"]}


def test_the_pull_request_page_judges_as_compare_does_with_the_configuration(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(store_url)
    try:
        ingest_runs(store, _history())
    finally:
        store.close()
    plain, configured = tmp_path / "plain", tmp_path / "configured"
    plain.mkdir()
    configured.mkdir()
    (configured / "perfci.toml").write_text(CONFIG)

    without, with_config = _compare(plain, store_url), _compare(configured, store_url)
    gemm, conv = (f"{GEMM}::test_gemm", "latency"), (f"{CONV}::test_conv", "latency")
    # the configuration changes what compare says of both
    assert without[gemm] == ("regression", None) and with_config[gemm] == ("unchanged", None)
    assert without[conv] == ("regression", None)
    assert with_config[conv] == ("regression", "exact convolution for accuracy")

    for cwd, verdicts in ((plain, without), (configured, with_config)):
        assert _page(cwd, store_url) == {k: v for k, (v, _) in verdicts.items()}
        monkeypatch.chdir(cwd)  # the page reads perfci.toml where it is built
        assert _page_data(store_url) == verdicts


def test_files_are_judged_with_the_configuration_too(tmp_path: Path) -> None:
    """`perfci compare BASE.json... HEAD.json` reads perfci.toml as the store path does,
    and an acknowledgement of the head file's commit applies."""
    *base, head = _history()
    files = [str(write(r, tmp_path / f"run{i}.json")) for i, r in enumerate([*base, head])]

    def verdicts() -> Verdicts:
        done = perfci("compare", *files, "--format", "json", "--fail-on-regression", cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
        doc = json.loads(done.stdout)
        assert doc["baseline"]["reason"] == ", ".join(files[:-1])
        assert (done.returncode == 1) == any(
            c["verdict"] == "regression" and c["acknowledged"] is None and c["gates"]
            for c in doc["comparisons"]
        )
        return {
            (c["benchmark"], c["metric"]): (c["verdict"], c["acknowledged"])
            for c in doc["comparisons"]
        }

    without = verdicts()
    (tmp_path / "perfci.toml").write_text(CONFIG)
    configured = verdicts()
    gemm, conv = (f"{GEMM}::test_gemm", "latency"), (f"{CONV}::test_conv", "latency")
    assert without[gemm][0] == "regression" and configured[gemm][0] == "unchanged"
    assert without[conv] == ("regression", None)
    assert configured[conv] == ("regression", "exact convolution for accuracy")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_ancestry_walks_git_where_it_knows_the_commit_else_the_stored_parents(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The store knows the newest commit and its parent's sha, nothing older: git's walk
    goes on through commits no run measured."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = []
    for i in range(3):
        git(repo, "commit", "-q", "--allow-empty", "-m", f"commit {i}")
        shas.append(git(repo, "rev-parse", "HEAD"))
    store = open_store(sqlite_url)
    try:
        ingest_runs(store, [run(commit=shas[2], parents=(shas[1],))])
        assert ancestry(store, shas[2], repo) == shas[::-1]
        assert ancestry(store, shas[2]) == [shas[2], shas[1]]
        elsewhere = tmp_path / "elsewhere"  # a folder git knows nothing of
        elsewhere.mkdir()
        assert ancestry(store, shas[2], elsewhere) == [shas[2], shas[1]]
    finally:
        store.close()
