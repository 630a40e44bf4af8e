"""The trusted comment path of a same-job A/B folder (perf-pr's artifact in A/B mode): its
manifest and round files are checked as data, the rounds judged again from the files'
measurements as `perfci ab` judges them, never taken from the folder's own report, and
a folder whose manifest is tampered with is one line and exit 2."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import benchmark, run, sha, write
from github_server import REPO, PullsGitHub, pulls_github
from test_cli import perfci

from perfci.ab.manifest import MANIFEST, manifest_of, read_ab_results, write_manifest
from perfci.ab.session import DECIDED, Outcome
from perfci.compare import ResultsFile
from perfci.config import Config
from perfci.github.artifact import read_pull_results
from perfci.github.comment import MARKER, PAGE_LINK
from perfci.github.pull_report import ab_pull_markdown
from perfci.results import ResultsError

TOKEN = "ghs_ab_comment_token_0123456789"
BASE, HEAD = sha("merge-base"), sha("pull-request-head")
ORDER = "ABBABAAB"
PLANTED = "**perfci: no change** [claim](https://evil.example)"


def ab_run(commit: str, index: int, slower: float, trigger: str = "ab") -> Any:
    measured = run(
        commit=commit,
        benchmarks=(
            benchmark("test_gemm", latency=1e-3 * slower, seed=2 * index + (commit == HEAD)),
            benchmark(
                "test_steady", {"n": 1}, latency=2e-3, seed=50 + 2 * index + (commit == HEAD)
            ),
        ),
        started_at=f"2026-11-01T10:{index:02d}:00+00:00",
    )
    return dataclasses.replace(measured, run=dataclasses.replace(measured.run, trigger=trigger))


def ab_folder(path: Path, slower: float = 1.3, rounds: int = 4) -> Path:
    """An A/B folder as `perfci ab --results` leaves it in perf-pr, with perf-pr's other
    files: the head's test_gemm `slower` times the base's in every round."""
    path.mkdir()
    pairs = []
    for i in range(rounds):
        files = []
        for side, commit, factor in (("base", BASE, 1.0), ("head", HEAD, slower)):
            target = path / f"round-{i + 1:02d}-{side}.json"
            files.append(ResultsFile(str(target), ab_run(commit, i, factor)))
            write(files[-1].result, target)
        pairs.append((files[0], files[1]))
    outcome = Outcome(pairs, ORDER[: 2 * rounds], [], 123.0, DECIDED)
    write_manifest(path, manifest_of(outcome, BASE, HEAD))
    (path / "report.md").write_text(PLANTED)
    (path / "pr-number").write_text("42\n")
    (path / "head-sha").write_text(HEAD + "\n")
    return path


def judged(folder: Path) -> dict[tuple[str, str], str]:
    """The verdicts the trusted side gives the folder's rounds."""
    ab = read_pull_results(folder, 42, HEAD).ab
    assert ab is not None
    return {
        (c.benchmark.split("::")[1], c.metric): c.verdict for c in ab.outcome(Config()).comparisons
    }


def dry_run(folder: Path, *extra: str, base: str = BASE) -> Any:
    env = {"PATH": os.environ["PATH"], "PERFCI_DB": f"sqlite:///{folder.parent / 'scratch.db'}"}
    return perfci(
        "comment", "--results", str(folder), "--pr", "42", "--head-sha", HEAD, "--base", base,
        "--dry-run", *extra, cwd=folder.parent, env=env,
    )  # fmt: skip


def test_the_comment_is_the_rounds_judged_again_never_the_folders_report(tmp_path: Path) -> None:
    folder = ab_folder(tmp_path / "perfci-pr")
    done = dry_run(folder)
    assert done.returncode == 0, done.stderr
    body = done.stdout
    lines = body.splitlines()
    assert lines[0] == MARKER and lines[1].startswith("**perfci: 2 regressions**")
    assert "`test_gemm`" in lines[1] and "evil.example" not in body and PLANTED not in body
    assert lines[3] == (
        "Measured in this job: base and head interleaved, 4 rounds in the order "
        "`ABBA BAAB` (A base, B head); each benchmark 4 rounds; 2 min 3 s of measuring; "
        "stopped: every metric decided."
    )
    assert f"Base: commit {BASE[:12]}, machine `mini-1`." in body
    assert not (tmp_path / "scratch.db").exists()  # judged from the files, nothing stored
    assert judged(folder)[("test_gemm", "latency")] == "regression"


def test_verdicts_follow_the_files_measurements_not_what_the_folder_claims(
    tmp_path: Path,
) -> None:
    honest = ab_folder(tmp_path / "honest")
    claimed = ab_folder(tmp_path / "claimed")
    # the pull request's job wrote its own verdicts beside the files: they count for nothing
    (claimed / "report.md").write_text("**perfci: 1 improvement** — `test_gemm` latency -50%")
    assert dry_run(honest).stdout == dry_run(claimed).stdout
    # the measurements do: the same folder without the slowdown has no regression
    same = ab_folder(tmp_path / "same", slower=1.0)
    assert "regression" not in judged(same).values()
    assert judged(honest)[("test_gemm", "latency")] == "regression"


def manifest(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    return doc


def rewrite(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = manifest(folder)
    change(doc)
    (folder / MANIFEST).write_text(json.dumps(doc))


def swap_first_round(doc: dict[str, Any]) -> None:
    first = doc["rounds"][0]
    first["base"], first["head"] = first["head"], first["base"]


TAMPERED: list[tuple[str, Callable[[Path], None], str]] = [
    ("verdicts added", lambda f: rewrite(f, lambda d: d.update(comparisons=[])),
     "unknown key 'comparisons'"),
    ("order of another design", lambda f: rewrite(f, lambda d: d.update(order="AABBAABB")),
     "order must be AB or BA for each of its 4 rounds"),
    ("order of fewer rounds", lambda f: rewrite(f, lambda d: d.update(order="ABBA")),
     "order must be AB or BA"),
    ("sides swapped", lambda f: rewrite(f, swap_first_round), "not an A/B run of the base"),
    ("a name outside the folder",
     lambda f: rewrite(f, lambda d: d["rounds"][0].update(base="../round-01-base.json")),
     "is not a results file's name in this folder"),
    ("one file twice",
     lambda f: rewrite(f, lambda d: d["rounds"][1].update(base="round-01-base.json")),
     "named in more than one place"),
    ("a round dropped", lambda f: rewrite(f, lambda d: d.update(rounds=d["rounds"][:3],
                                                                 order="ABBABA")),
     "a results file the A/B manifest does not name"),
    ("another head", lambda f: rewrite(f, lambda d: d.update(head=sha("other"))),
     "not an A/B run of the head"),
    ("an unknown reason", lambda f: rewrite(f, lambda d: d.update(stopped="<b>approved</b>")),
     "is no reason perfci ab stops"),
    ("a round limit it did not reach",
     lambda f: rewrite(f, lambda d: d.update(stopped="the 10-round limit")),
     "is no reason perfci ab stops"),
    ("time not finite", lambda f: rewrite(f, lambda d: d.update(elapsed_s=float("nan"))),
     "elapsed_s must be between"),
    ("time as text", lambda f: rewrite(f, lambda d: d.update(elapsed_s="2 min")),
     "elapsed_s must be a number"),
    ("newer format", lambda f: rewrite(f, lambda d: d.update(format_version=2)),
     "format_version must be 1"),
    ("no rounds", lambda f: rewrite(f, lambda d: d.update(rounds=[], order="")),
     "rounds must be a list of 1 to 1000 rounds"),
    ("not JSON", lambda f: (f / MANIFEST).write_text("{"), "not valid JSON"),
    ("a link", lambda f: ((f / MANIFEST).unlink(), (f / MANIFEST).symlink_to(f / "report.md")),
     "not a plain file"),
    ("a pull request's run as a round",
     lambda f: write(ab_run(HEAD, 0, 1.3, trigger="push"), f / "round-01-head.json"),
     "not an A/B run of the head"),
    ("a run twice",
     lambda f: (f / "round-02-head.json").write_text((f / "round-01-head.json").read_text()),
     "two of its results files hold the same run"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED]
)
def test_a_tampered_folder_is_refused_with_one_line(
    tmp_path: Path, change: Callable[[Path], None], message: str
) -> None:
    folder = ab_folder(tmp_path / "perfci-pr")
    change(folder)
    with pytest.raises(ResultsError) as caught:
        read_pull_results(folder, 42, HEAD)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_tampered_manifest_through_the_command_is_exit_2_and_nothing_else(
    tmp_path: Path,
) -> None:
    folder = ab_folder(tmp_path / "perfci-pr")
    rewrite(folder, lambda d: d.update(comparisons=[{"verdict": "unchanged"}]))
    done = dry_run(folder)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "unknown key 'comparisons'" in done.stderr
    assert not (tmp_path / "scratch.db").exists()


def test_a_base_that_is_not_the_merge_base_is_refused(tmp_path: Path) -> None:
    folder = ab_folder(tmp_path / "perfci-pr")
    results = read_pull_results(folder, 42, HEAD)
    assert "regression" in ab_pull_markdown(results, BASE[:12], Config())  # a prefix will do
    other = sha("a slower commit of main")
    with pytest.raises(ResultsError, match=f"base {BASE[:12]} is not the merge-base {other[:12]}"):
        ab_pull_markdown(results, other, Config())
    done = dry_run(folder, base=other)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stdout == ""


@pytest.fixture
def github() -> Iterator[PullsGitHub]:
    with pulls_github(TOKEN) as state:
        yield state


def test_checked_kept_and_posted_as_perf_comment_does(tmp_path: Path, github: PullsGitHub) -> None:
    """The trust check, `perfci keep` and the comment on an A/B folder, the merge-base from
    the API; the rounds are kept with the head's kept folder (the dashboard's page judges
    them again), and the comment links that pull-request page."""
    folder = ab_folder(tmp_path / "perfci-pr")
    github.pulls[42] = HEAD
    github.merge_bases[HEAD] = BASE
    data = tmp_path / "perfci-data"
    data.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
        "PERFCI_DB": f"sqlite:///{tmp_path / 'comment.db'}",
        "PERFCI_DASHBOARD_URL": "https://octo.github.io/ml/",
    }
    common = ("--pr", "42", "--head-sha", HEAD)
    done = perfci("comment", "--check-trust", "--results", str(folder), *common, cwd=tmp_path,
                  env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = perfci("keep", str(folder), *common, "--into", str(data), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in (data / "pulls" / "42").iterdir())
    assert kept == sorted([f"{HEAD}-explain", *(f"{HEAD}-round-{i:02d}-{s}.json"
                           for i in range(1, 5) for s in ("base", "head"))])  # fmt: skip
    done = perfci("comment", "--results", str(folder), *common, cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.startswith("created comment "), done.stderr
    (posted,) = github.comments
    assert posted["body"].startswith(f"{MARKER}\n**perfci: 2 regressions**")
    assert "Measured in this job" in posted["body"] and PAGE_LINK in posted["body"]
    github.merge_bases[HEAD] = sha("main moved")  # the folder's base is no longer it
    done = perfci("comment", "--results", str(folder), *common, cwd=tmp_path, env=env)
    assert done.returncode == 2 and "is not the merge-base" in done.stderr
    assert len(github.comments) == 1 and read_ab_results(folder).manifest.base == BASE
