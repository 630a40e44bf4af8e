"""The GitHub client and the sticky comment against a local server that plays GitHub."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from factories import run
from github_server import FakeGitHub, fake_github
from hostile import cli

from perfci.github.client import GitHubClient, GitHubError, RetryPolicy, json_object
from perfci.github.comment import (
    COMMENT_LIMIT,
    MARKER,
    PAGE_LINK,
    comment_body,
    page_link,
    pull_head_sha,
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


@contextmanager
def answering(status: int, body: bytes, **by_method: tuple[int, bytes]) -> Iterator[str]:
    """A local server that answers every request with `status` and the raw `body`, or a
    method named in `by_method` with its own (status, body); yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            code, data = by_method.get(self.command, (status, body))
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PATCH = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_success_and_not_followed(github: FakeGitHub, status: int) -> None:
    """A renamed repository answers 301: that must not read as "the PR moved on"."""
    github.pulls[7] = "a" * 40
    moved = f"{github.url}/repos/octo/renamed/pulls/7"
    github.fail_next("GET", status, {"Location": moved})
    sleeps: list[float] = []
    with client(github, sleeps) as c, pytest.raises(GitHubError) as caught:
        pull_head_sha(c, REPO, 7)
    message = str(caught.value)
    assert f"answered {status}" in message and f"redirected to {moved}" in message
    assert "renamed or moved" in message and "\n" not in message and TOKEN not in message
    assert sleeps == [] and len(github.requests) == 1  # neither retried nor followed


@pytest.mark.parametrize(
    "body", [b"<html>Unicorn!</html>", b"\xff\xfe not utf-8", b'{"id": 1', b"null x"]
)
def test_a_success_whose_body_is_not_json_is_one_line(body: bytes) -> None:
    policy = RetryPolicy(attempts=1)
    server = answering(200, body)
    with server as url, GitHubClient(TOKEN, url, policy) as c, pytest.raises(GitHubError) as caught:
        c.request("GET", "repos/octo/ml/pulls/7")
    assert (
        str(caught.value) == "GET /repos/octo/ml/pulls/7 answered 200 with a body that is not JSON"
    )


def test_an_empty_success_is_no_error() -> None:
    with answering(204, b"") as url, GitHubClient(TOKEN, url, RetryPolicy(attempts=1)) as c:
        assert c.request("GET", "repos/octo/ml").status_code == 204


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[]", "did not answer a JSON object"),
        (b'"x"', "did not answer a JSON object"),
        (b"{}", "answered without `id`"),
        (b'{"id": null}', "answered without `id`"),
    ],
)
def test_json_object_names_what_an_answer_lacks(body: bytes, problem: str) -> None:
    with answering(200, body) as url, GitHubClient(TOKEN, url, RetryPolicy(attempts=1)) as c:
        response = c.request("POST", "repos/octo/ml/issues/7/comments")
        with pytest.raises(GitHubError, match=problem):
            json_object(response, "id")
    with answering(201, b'{"id": 5}') as url, GitHubClient(TOKEN, url) as c:
        assert json_object(c.request("POST", "x"), "id") == {"id": 5}


def test_a_created_comment_without_an_id_is_one_line() -> None:
    created = answering(201, b'{"html_url": "x"}', GET=(200, b"[]"))
    with created as url, GitHubClient(TOKEN, url) as c, pytest.raises(GitHubError):
        upsert_comment(c, REPO, 7, "body", author="nobody")


HEAD = "c" * 40


def pull_artifact(folder: Path, *docs: dict[str, Any]) -> Path:
    folder.mkdir()
    for i, doc in enumerate(docs):
        (folder / f"r{i}.json").write_text(json.dumps(doc))
    return folder


def pull_doc(seed: str, **changes: Any) -> dict[str, Any]:
    """A results document of pull request #7's run at HEAD, with `changes` (dotted keys)."""
    doc = json.loads(
        run(commit=HEAD, run_id=f"pr-{seed}").to_json().replace('"manual"', '"pull_request"')
    )
    doc["run"]["pr_number"] = 7
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        target = doc
        for key in path:
            target = target[int(key) if key.isdigit() else key]
        target[last] = value
    return dict(doc)


@pytest.fixture
def keeping(github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A perfci-data checkout to keep into; the API is the local server, PR #7 at HEAD."""
    monkeypatch.chdir(tmp_path)
    for key, value in {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PERFCI_GITHUB_BACKOFF", "0")
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    github.pulls[7] = HEAD
    data = tmp_path / "perfci-data"
    data.mkdir()
    yield data


def keep(artifact: Path, data: Path) -> Any:
    return cli(
        "keep", str(artifact), "--pr", "7", "--head-sha", HEAD, "--into", str(data), "--repo", REPO
    )


def test_keep_writes_every_checked_file(keeping: Path, tmp_path: Path) -> None:
    artifact = pull_artifact(tmp_path / "a", pull_doc("one"), pull_doc("two"))
    done = keep(artifact, keeping)
    assert done.code == 0, done
    assert sorted(p.name for p in (keeping / "pulls" / "7").iterdir()) == [
        f"{HEAD}-r0.json",
        f"{HEAD}-r1.json",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"benchmarks.0.params.batch": float("nan")},
        {"environment.packages": "mlx 0.26"},
        {"machine.memory_bytes": "64 GB"},
        {"commit.branch": "b" * 300},
    ],
    ids=["nan-param", "packages-a-string", "memory-a-string", "long-branch"],
)
def test_keep_refuses_what_would_break_the_dashboard_and_writes_nothing(
    keeping: Path, tmp_path: Path, bad: dict[str, Any]
) -> None:
    artifact = pull_artifact(tmp_path / "a", pull_doc("fine"), pull_doc("bad", **bad))
    refused = keep(artifact, keeping)
    assert refused.refused() and "r1.json" in refused.err, refused
    assert list(keeping.rglob("*")) == []  # not even the good first file


def test_keep_after_a_redirect_is_an_error_not_a_pull_request_that_moved_on(
    keeping: Path, tmp_path: Path, github: FakeGitHub
) -> None:
    github.fail_next("GET", 301, {"Location": f"{github.url}/repos/octo/renamed/pulls/7"})
    refused = keep(pull_artifact(tmp_path / "a", pull_doc("one")), keeping)
    assert refused.refused() and "answered 301" in refused.err, refused
    assert "moved on" not in refused.err and list(keeping.rglob("*")) == []


def test_keep_refuses_an_answer_that_names_no_head(
    keeping: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with answering(200, b'{"number": 7}') as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        refused = keep(pull_artifact(tmp_path / "a", pull_doc("one")), keeping)
    assert refused.refused() and "names no head commit" in refused.err, refused
