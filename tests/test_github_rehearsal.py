"""A rehearsal of the pull-request workflows: a real `pull_request` event payload goes
through the same commands perf-pr.yml and perf-comment.yml run, against a local server
that answers like GitHub's REST API. Two pushes: the first creates the comment, the
second updates it; a 502 is retried; a 403 without retry headers fails clearly."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import benchmark, run, write
from github_server import FakeGitHub, fake_github
from test_cli import perfci

from perfci.github.comment import MARKER

TOKEN = "ghs_rehearsal_token_0123456789"
EVENT = Path(__file__).parent / "data" / "pull_request_event.json"
HOSTILE = "test_attn[<img src=x>|@octo/perf]"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github(TOKEN) as state:
        yield state


class Rehearsal:
    def __init__(self, tmp: Path, github: FakeGitHub) -> None:
        self.tmp, self.github = tmp, github
        self.repo = tmp / "repo"
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        self.base = commit(self.repo, "Base")
        git(self.repo, "checkout", "-q", "-b", "fuse-attention")
        self.db = f"sqlite:///{tmp / 'store' / 'perfci.db'}"
        self.outputs: list[str] = []
        # main's history on the runner: four runs of the base commit
        files = [
            str(
                write(
                    run(commit=self.base, benchmarks=(benchmark(HOSTILE, seed=i),)),
                    tmp / f"base{i}.json",
                )
            )
            for i in range(4)
        ]
        self.check(perfci("ingest", *files, "--db", self.db, cwd=self.repo))

    def check(self, done: subprocess.CompletedProcess[str], code: int = 0) -> str:
        self.outputs += [done.stdout, done.stderr]
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    def pr_job(self, push: int, head: str, latency: float) -> tuple[Path, int]:
        """perf-pr.yml: no token; context, measure (here: ingest), compare, summary."""
        event = self.tmp / f"event{push}.json"
        text = EVENT.read_text().replace("HEAD_SHA", head).replace("BASE_SHA", self.base)
        event.write_text(text.replace("BEFORE_SHA", self.base))
        artifact = self.tmp / f"artifact{push}"
        artifact.mkdir()
        summary = self.tmp / f"summary{push}.md"
        env = {
            "PATH": os.environ["PATH"],
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "octo/ml",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": f"900{push}",
            "GITHUB_STEP_SUMMARY": str(summary),
            "PERFCI_DB": self.db,
        }
        context = dict(
            line.split("=", 1)
            for line in self.check(perfci("context", cwd=self.repo, env=env)).splitlines()
        )
        assert context["pr_number"] == "42" and context["head_sha"] == head
        assert context["merge_base"] == self.base  # from git, as on the runner
        results = run(commit=head, benchmarks=(benchmark(HOSTILE, latency=latency, seed=9),))
        head_file = write(results, artifact / "run.json")
        self.check(perfci("ingest", str(head_file), cwd=self.repo, env=env))
        compared = perfci(
            "compare", "--base", context["merge_base"], "--head", head,
            "--format", "markdown", "--fail-on-regression", cwd=self.repo, env=env,
        )  # fmt: skip
        gate = compared.returncode
        self.check(compared, gate)
        (artifact / "report.md").write_text(compared.stdout)
        (artifact / "pr-number").write_text(context["pr_number"] + "\n")
        self.check(perfci("summary", str(artifact / "report.md"), cwd=self.repo, env=env))
        assert summary.read_text().strip() == compared.stdout.strip()
        return artifact, gate

    def comment_job(self, artifact: Path, head: str, code: int = 0) -> str:
        """perf-comment.yml: a write token, the artifact as data, no PR code."""
        env = {
            "PATH": os.environ["PATH"],
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "workflow_run",
            "GITHUB_REPOSITORY": "octo/ml",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_TOKEN": TOKEN,
            "PERFCI_GITHUB_BACKOFF": "0.01",
            # a dead proxy: anything that left 127.0.0.1 through the environment would fail
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
        }
        pr = (artifact / "pr-number").read_text()[:20].strip()
        done = perfci(
            "comment", str(artifact / "report.md"), "--pr", pr, "--head-sha", head,
            "--report-url", "https://github.com/octo/ml/actions/runs/9001",
            cwd=self.tmp, env=env,
        )  # fmt: skip
        return self.check(done, code) if code == 0 else (self.check(done, code), done.stderr)[1]


def test_two_pushes_create_then_update_one_comment(tmp_path: Path, github: FakeGitHub) -> None:
    r = Rehearsal(tmp_path, github)
    github.add_comment(42, "Nice work!", "maintainer")
    github.add_comment(42, "Please rebase.", "maintainer")

    head1 = commit(r.repo, "Fuse attention")
    github.pulls[42] = head1
    artifact, gate = r.pr_job(1, head1, latency=1.5e-3)  # 50% slower: a regression
    assert gate == 1
    github.fail_next("GET", 502)  # GitHub hiccups once: retried
    out = r.comment_job(artifact, head1)
    assert out.startswith("created comment ")
    (mine,) = [c for c in github.comments if MARKER in c["body"]]
    assert "regression" in mine["body"].lower()
    assert "<img" not in mine["body"] and "@octo" not in mine["body"]  # escaped
    first_id = mine["id"]

    head2 = commit(r.repo, "Fix the regression")
    github.pulls[42] = head2
    artifact, gate = r.pr_job(2, head2, latency=1e-3)
    assert gate == 0
    out = r.comment_job(artifact, head2)
    assert out.startswith(f"updated comment {first_id} ")
    bodies = [c for c in github.comments if MARKER in c["body"]]
    assert [c["id"] for c in bodies] == [first_id] and len(github.comments) == 3
    assert "regression" not in bodies[0]["body"].split("|", 1)[0].lower()
    assert [m for m, _, _ in github.requests].count("POST") == 1
    assert [m for m, _, _ in github.requests].count("PATCH") == 1
    assert all(authed for _, _, authed in github.requests)

    # a results artifact from an older push does not overwrite the newer comment
    out = r.comment_job(artifact, head1)
    assert [m for m, _, _ in github.requests].count("PATCH") == 1

    github.fail_next("GET", 403)  # the token lacks permission: no retry, one clear line
    err = r.comment_job(artifact, head2, code=2)
    assert err.startswith("perfci: error: GET /repos/octo/ml/pulls/42 answered 403")
    assert "Resource not accessible by integration" in err and err.count("\n") == 1

    assert all(TOKEN not in text for text in r.outputs)


def test_dry_run_prints_the_body_without_token_or_network(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("| a | b |\n")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    done = perfci("comment", str(report), "--dry-run", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{MARKER}\n| a | b |\n" and TOKEN not in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--pr", "1e3"],
            {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"},
            "not a pull-request number",
        ),
        (["--pr", "3"], {"GITHUB_REPOSITORY": "o/r"}, "$GITHUB_TOKEN is not set"),
        (["--pr", "3"], {"GITHUB_TOKEN": "x"}, "no repository"),
        ([], {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"}, "pass --pr N"),
    ],
)
def test_comment_bad_input_is_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    report = tmp_path / "report.md"
    report.write_text("x")
    done = perfci(
        "comment", str(report), *args, cwd=tmp_path, env={"PATH": os.environ["PATH"], **env}
    )
    assert done.returncode == 2 and message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
