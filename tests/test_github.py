"""The GitHub client and the sticky comment against a local server that plays GitHub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from github_server import FakeGitHub, fake_github

from perfci.github.client import GitHubClient, GitHubError, RetryPolicy
from perfci.github.comment import (
    COMMENT_LIMIT,
    MARKER,
    PAGE_LINK,
    comment_body,
    page_link,
    trim,
    upsert_comment,
)
from perfci.github.event import ContextError, pull_context

TOKEN = "ghs_s3cret_token_value"
REPO = "octo/ml"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github(TOKEN) as state:
        yield state


def client(github: FakeGitHub, sleeps: list[float], attempts: int = 5) -> GitHubClient:
    policy = RetryPolicy(attempts=attempts, sleep=sleeps.append, jitter=lambda: 0.5)
    return GitHubClient(TOKEN, github.url, policy)


def test_creates_once_then_updates_in_place_across_pages(github: FakeGitHub) -> None:
    # other people's comments, and one that quotes the marker but is not the bot's
    github.add_comment(7, "LGTM", "alice")
    github.add_comment(7, f"quoting {MARKER}", "mallory")
    github.add_comment(7, "nit", "bob")
    with client(github, []) as c:
        first = upsert_comment(c, REPO, 7, comment_body("one"))
        second = upsert_comment(c, REPO, 7, comment_body("two"))
    assert (first.action, second.action) == ("created", "updated")
    assert first.comment_id == second.comment_id
    mine = [x for x in github.comments if x["user"]["login"] == "github-actions[bot]"]
    assert len(mine) == 1 and mine[0]["body"].endswith("two\n")
    # the bot's comment was 4th: found only by following the Link header to page 2
    assert ("GET", f"/repos/{REPO}/issues/7/comments", True) in github.requests
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{first.comment_id}", True) in github.requests


def test_5xx_is_retried_with_growing_backoff(github: FakeGitHub) -> None:
    github.fail_next("GET", 502)
    github.fail_next("GET", 503)
    sleeps: list[float] = []
    with client(github, sleeps) as c:
        assert upsert_comment(c, REPO, 3, comment_body("x")).action == "created"
    assert sleeps == [1.0, 2.0]  # base 1 s, doubled, jitter factor 0.5 + 0.5


def test_secondary_rate_limit_waits_as_told(github: FakeGitHub) -> None:
    github.fail_next("POST", 403, {"Retry-After": "7"})
    reset = str(int(time.time()) + 30)
    github.fail_next("GET", 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    sleeps: list[float] = []
    with client(github, sleeps) as c:
        upsert_comment(c, REPO, 3, comment_body("x"))
    assert 25 <= sleeps[0] <= 30 and sleeps[1] == 7.0


def test_403_without_retry_headers_fails_at_once_without_the_token(github: FakeGitHub) -> None:
    github.fail_next("GET", 403)
    sleeps: list[float] = []
    with client(github, sleeps) as c, pytest.raises(GitHubError) as caught:
        upsert_comment(c, REPO, 3, comment_body("x"))
    message = str(caught.value)
    assert sleeps == [] and "403" in message and "Resource not accessible" in message
    assert TOKEN not in message and "\n" not in message


def test_attempts_and_total_wait_are_bounded(github: FakeGitHub) -> None:
    for _ in range(5):
        github.fail_next("GET", 500)
    sleeps: list[float] = []
    with client(github, sleeps, attempts=3) as c, pytest.raises(GitHubError, match="3 attempts"):
        upsert_comment(c, REPO, 3, comment_body("x"))
    assert len(sleeps) == 2
    github.failures.clear()
    github.fail_next("GET", 403, {"Retry-After": "3600"})  # longer than the total allowed
    with client(github, sleeps) as c, pytest.raises(GitHubError, match="gave up"):
        upsert_comment(c, REPO, 3, comment_body("x"))


def test_connection_refused_is_one_line_error() -> None:
    policy = RetryPolicy(attempts=2, sleep=lambda s: None)
    with GitHubClient(TOKEN, "http://127.0.0.1:9", policy) as c, pytest.raises(GitHubError) as e:
        c.request("GET", "repos/a/b")
    assert "ConnectError" in str(e.value) and TOKEN not in str(e.value)


def test_long_bodies_are_trimmed_with_a_link() -> None:
    row = "| bench | 1.00 |\n"
    body = comment_body(row * 10_000, "https://ci.example/run/1")
    assert len(body) <= COMMENT_LIMIT and body.startswith(MARKER)
    assert body.endswith("see [the full report](https://ci.example/run/1).\n")
    assert "| bench | 1.00 |\n\n…trimmed" in body  # cut at a line boundary
    assert len(trim("é" * 600_000, 1024 * 1024, as_bytes=True).encode()) <= 1024 * 1024


def test_the_page_link_ends_the_body_and_survives_trimming() -> None:
    page = "https://octo.github.io/ml/pr/7.html"
    short = comment_body("| a | b |\n", page_url=page)
    assert short == f"{MARKER}\n| a | b |\n\n{page_link(page)}\n"
    assert page_link(page).startswith(f"[{PAGE_LINK}]({page})")
    long = comment_body("| bench | 1.00 |\n" * 10_000, "https://ci.example/run/1", page)
    assert len(long) <= COMMENT_LIMIT and "…trimmed" in long
    assert long.endswith(f"see [the full report](https://ci.example/run/1).\n\n{page_link(page)}\n")
    assert comment_body("x") == f"{MARKER}\nx\n"  # no page, no link


def test_context_from_event_with_overrides(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        '{"pull_request": {"number": 12, "base": {"sha": "' + "a" * 40 + '"},'
        ' "head": {"sha": "' + "b" * 40 + '"}}}'
    )
    env = {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "99",
        "GITHUB_API_URL": "https://github.example/api/v3",
    }
    ctx = pull_context(env, {"merge_base": "c" * 40})
    assert (ctx.pr_number, ctx.base_sha, ctx.head_sha, ctx.merge_base) == (
        12,
        "a" * 40,
        "b" * 40,
        "c" * 40,
    )
    assert ctx.run_url == "https://github.example/octo/ml/actions/runs/99"
    assert ctx.api_url == "https://github.example/api/v3"
    assert pull_context(env, {"pr_number": 5}).pr_number == 5
    with pytest.raises(ContextError, match="not a pull-request number"):
        pull_context(env, {"pr_number": "5; rm -rf /"})
    with pytest.raises(ContextError, match="not an owner/name"):
        pull_context({**env, "GITHUB_REPOSITORY": "../../x"})
