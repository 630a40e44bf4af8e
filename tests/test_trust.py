"""The trust check of a pull request's results, against a local server that plays GitHub:
a fork's results are kept and posted only while the perf-ok label is on the pull request
for its current head commit; a same-repository pull request as before."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import sha
from github_server import REPO, PullsGitHub, pulls_github
from test_cli import perfci

from perfci.github.client import GitHubClient, GitHubError, RetryPolicy
from perfci.github.trust import REFUSED, STATUS_CONTEXT, Refused, check_pull, merge_base

TOKEN = "ghs_trust_token_0123456789"
FORK = "mallory/ml"


@pytest.fixture
def github() -> Iterator[PullsGitHub]:
    with pulls_github(TOKEN) as state:
        yield state


def client(github: PullsGitHub) -> GitHubClient:
    return GitHubClient(TOKEN, github.url, RetryPolicy(attempts=2, sleep=lambda s: None))


def fork_pull(github: PullsGitHub, number: int = 7) -> str:
    head = sha(f"fork-head-{number}")
    github.pulls[number] = head
    github.forks[number] = FORK
    return head


def check_trust(github: PullsGitHub, number: int, head: str) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
        "PERFCI_GITHUB_BACKOFF": "0.01",
    }
    done = perfci(
        "comment", "--check-trust", "--pr", str(number), "--head-sha", head,
        cwd=Path.cwd(), env=env,
    )  # fmt: skip
    assert "Traceback" not in done.stderr and TOKEN not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def test_a_fork_labelled_for_its_head_is_allowed(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.label(7)
    with client(github) as c:
        pull = check_pull(c, REPO, 7, head)
    assert pull.fork and pull.head_repo == FORK and "perf-ok" in pull.labels
    code, out, err = check_trust(github, 7, head)
    assert (code, err) == (
        0,
        "",
    ) and out == f"pull request #7 from {FORK}: perf-ok given for {head[:12]}\n"


def test_a_same_repository_pull_request_needs_no_label(github: PullsGitHub) -> None:
    head = sha("branch-head")
    github.pulls[8] = head
    with client(github) as c:
        assert not check_pull(c, REPO, 8, head).fork
        # whether it has moved on stays the caller's to tell, as before
        assert check_pull(c, REPO, 8, sha("older")).head_sha == head
    code, out, _ = check_trust(github, 8, head)
    assert code == 0 and out == "pull request #8 is from this repository\n"
    assert not any("/statuses" in path for _, path, _ in github.requests)  # no label asked for


def refusal(github: PullsGitHub, number: int, head: str) -> str:
    with client(github) as c, pytest.raises(Refused) as caught:
        check_pull(c, REPO, number, head)
    code, out, err = check_trust(github, number, head)
    assert code == REFUSED and out == "" and err.count("\n") == 1
    assert err == f"perfci: refused: {caught.value}\n"
    return str(caught.value)


def test_a_fork_without_the_label_is_refused(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.label(7, "needs-review")
    assert "has no perf-ok label" in refusal(github, 7, head)
    github.label(7)
    github.unlabel(7)  # the label was taken back: its mark on the commit does not count
    assert "has no perf-ok label" in refusal(github, 7, head)


def test_a_label_given_for_an_earlier_head_is_refused(github: PullsGitHub) -> None:
    fork_pull(github)
    github.label(7)  # read and labelled at the first head
    pushed = sha("pushed-after-the-label")
    github.pulls[7] = pushed  # the label stays on, the new head has no mark
    message = refusal(github, 7, pushed)
    assert "given for an earlier head" in message and pushed[:12] in message


def test_results_of_another_commit_than_the_head_are_refused(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.label(7)
    other = sha("not-the-head")
    message = refusal(github, 7, other)
    assert f"its head is now {head[:12]}, not {other[:12]}" in message


def test_only_the_workflows_success_mark_counts(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.labels[7] = ["perf-ok"]
    # a status of another context, or by someone other than the workflows' token, is no mark
    github.add_status(head, "ci/tests", "success", "github-actions[bot]")
    github.add_status(head, STATUS_CONTEXT, "success", "mallory")
    assert "given for an earlier head" in refusal(github, 7, head)
    github.add_status(head, STATUS_CONTEXT, "success", "github-actions[bot]")
    for _ in range(3):  # the mark is found on a later page of statuses
        github.add_status(head, "ci/other", "pending", "github-actions[bot]")
    assert check_trust(github, 7, head)[0] == 0
    github.add_status(head, STATUS_CONTEXT, "failure", "github-actions[bot]")  # the newest wins
    assert "given for an earlier head" in refusal(github, 7, head)


def test_a_deleted_fork_is_a_fork(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.forks[7] = None
    assert "from a deleted fork has no perf-ok label" in refusal(github, 7, head)


def test_an_api_failure_is_an_error_not_a_refusal(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.fail_next("GET", 403)
    code, _, err = check_trust(github, 7, head)
    assert code == 2 and err.startswith("perfci: error: GET /repos/octo/ml/pulls/7 answered 403")
    assert err.count("\n") == 1
    code, _, err = check_trust(github, 9, head)  # no such pull request
    assert code == 2 and "answered 404" in err


def test_the_merge_base_comes_from_the_api(github: PullsGitHub) -> None:
    head = fork_pull(github)
    github.merge_bases[head] = sha("fork-point")
    with client(github) as c:
        assert merge_base(c, REPO, "b" * 40, head) == sha("fork-point")
        with pytest.raises(GitHubError, match="404"):
            merge_base(c, REPO, "b" * 40, sha("unknown"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pr", "7"], "--check-trust needs --head-sha SHA"),
        (["--pr", "7", "--head-sha", "abc1234"], "--head-sha must be the full 40-character sha"),
        (["--pr", "7", "--head-sha", "g" * 40], "is not a git sha"),
        (["--head-sha", "a" * 40], "pass --pr N"),
        (["--pr", "7", "--head-sha", "a" * 40, "body.md"], "--check-trust posts nothing"),
        (["--pr", "7", "--head-sha", "a" * 40, "--results", "missing"], "is not a folder"),
    ],
)
def test_check_trust_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": REPO}
    done = perfci("comment", "--check-trust", *args, cwd=tmp_path, env=env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_body_for_a_forks_head_is_posted_only_with_perf_ok(
    github: PullsGitHub, tmp_path: Path
) -> None:
    head = fork_pull(github)
    body = tmp_path / "report.md"
    body.write_text("| a | b |\n")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
    }
    args = ("comment", str(body), "--pr", "7", "--head-sha", head)
    done = perfci(*args, cwd=tmp_path, env=env)
    assert done.returncode == REFUSED and "has no perf-ok label" in done.stderr
    assert github.comments == []
    github.label(7)
    done = perfci(*args, cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.startswith("created comment "), done.stderr
    assert [c["body"].endswith("| a | b |\n") for c in github.comments] == [True]
