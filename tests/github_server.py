"""A local HTTP server that answers like GitHub's REST API for issue comments and pull
requests: pagination by Link header, and scripted failures (5xx, rate limits, 403).
`fake_github` serves comments and pull requests' heads; `pulls_github` also what the
trust check reads (forks, labels, commit statuses, merge-bases)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

PAGE = 2  # small pages, so listing a few comments already needs the Link header
REPO = "octo/ml"  # the repository PullsGitHub answers for
Answer = tuple[int, Any, dict[str, str]]  # status, JSON body, extra headers


@dataclass
class FakeGitHub:
    url: str = ""
    token: str = ""
    comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, str] = field(default_factory=dict)  # number -> head sha
    failures: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[str, str, bool]] = field(default_factory=list)  # method, path, authed
    next_id: int = 1000

    def add_comment(self, number: int, body: str, login: str) -> int:
        self.next_id += 1
        self.comments.append(
            {"id": self.next_id, "number": number, "body": body, "user": {"login": login}}
        )
        return self.next_id

    def fail_next(self, method: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.append((method, status, headers or {}))

    def answer(self, method: str, path: str, query: str, payload: Any) -> Answer | None:
        """The answer to an authorised request that no scripted failure took; None: 404."""
        segs = path.strip("/").split("/")
        # /repos/{o}/{r}/issues/{n}/comments
        if len(segs) == 6 and segs[3] == "issues" and segs[5] == "comments":
            number = int(segs[4])
            if method == "GET":
                page = int(parse_qs(query).get("page", ["1"])[0])
                mine = [c for c in self.comments if c["number"] == number]
                headers = {}
                if page * PAGE < len(mine):
                    nxt = f"{self.url}{path}?per_page=100&page={page + 1}"
                    headers["Link"] = f'<{nxt}>; rel="next"'
                return 200, mine[(page - 1) * PAGE : page * PAGE], headers
            if method == "POST":
                new = self.add_comment(number, payload["body"], "github-actions[bot]")
                return 201, {"id": new, "html_url": f"{self.url}/c/{new}"}, {}
        # /repos/{o}/{r}/issues/comments/{id}
        if len(segs) == 6 and segs[3:5] == ["issues", "comments"] and method == "PATCH":
            for c in self.comments:
                if c["id"] == int(segs[5]):
                    c["body"] = payload["body"]
                    return 200, {"id": c["id"], "html_url": f"{self.url}/c/{c['id']}"}, {}
        # /repos/{o}/{r}/pulls/{n}
        if len(segs) == 5 and segs[3] == "pulls" and method == "GET":
            number = int(segs[4])
            if number in self.pulls:
                return 200, {"number": number, "head": {"sha": self.pulls[number]}}, {}
        return None


@dataclass
class PullsGitHub(FakeGitHub):
    """GitHub answering for pull requests as the API does for the trust check: the head's
    repository, the labels, the base commit, commit statuses (the mark perf-ok.yml sets
    on the labelled head) and the merge-base of a comparison."""

    repo: str = REPO
    forks: dict[int, str | None] = field(default_factory=dict)  # number -> head repo
    labels: dict[int, list[str]] = field(default_factory=dict)
    bases: dict[int, str] = field(default_factory=dict)  # number -> base commit
    merge_bases: dict[str, str] = field(default_factory=dict)  # head sha -> merge-base
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # newest first
    next_status: int = 0

    def label(self, number: int, name: str = "perf-ok", by: str = "github-actions[bot]") -> None:
        """A maintainer labels the pull request; perf-ok.yml then marks its head now."""
        self.labels.setdefault(number, []).append(name)
        if name == "perf-ok":
            self.add_status(self.pulls[number], "perfci/perf-ok", "success", by)

    def unlabel(self, number: int, name: str = "perf-ok") -> None:
        self.labels[number].remove(name)

    def add_status(self, sha: str, context: str, state: str, creator: str) -> None:
        self.next_status += 1
        status = {
            "id": self.next_status,
            "context": context,
            "state": state,
            "creator": {"login": creator},
        }
        self.statuses.setdefault(sha, []).insert(0, status)

    def pull(self, number: int) -> dict[str, Any]:
        head_repo = self.forks.get(number, self.repo)
        repo = {"full_name": head_repo} if head_repo is not None else None
        return {
            "number": number,
            "head": {"sha": self.pulls[number], "repo": repo},
            "base": {"sha": self.bases.get(number, "b" * 40), "repo": {"full_name": self.repo}},
            "labels": [{"name": name} for name in self.labels.get(number, [])],
        }

    def answer(self, method: str, path: str, query: str, payload: Any) -> Answer | None:
        """The pull request in full, its head's statuses and a comparison's merge-base;
        the rest as FakeGitHub answers it."""
        segs = path.strip("/").split("/")
        if method != "GET" or len(segs) < 5 or segs[:3] != ["repos", *self.repo.split("/")]:
            return super().answer(method, path, query, payload)
        if len(segs) == 5 and segs[3] == "pulls" and int(segs[4]) in self.pulls:
            return 200, self.pull(int(segs[4])), {}
        if len(segs) == 6 and segs[3] == "commits" and segs[5] == "statuses":
            page = int(parse_qs(query).get("page", ["1"])[0])
            mine = self.statuses.get(segs[4], [])
            headers = {}
            if page * PAGE < len(mine):
                nxt = f"{self.url}{path}?per_page=100&page={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return 200, mine[(page - 1) * PAGE : page * PAGE], headers
        if len(segs) == 5 and segs[3] == "compare" and "..." in segs[4]:
            head = segs[4].split("...", 1)[1]
            if head in self.merge_bases:
                return 200, {"merge_base_commit": {"sha": self.merge_bases[head]}}, {}
        return super().answer(method, path, query, payload)


_State = TypeVar("_State", bound=FakeGitHub)


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            authed = self.headers.get("Authorization") == f"Bearer {state.token}"
            state.requests.append((method, parts.path, authed))
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else None
            if not authed:
                return self._send(401, {"message": "Bad credentials"})
            for i, (fail_method, status, headers) in enumerate(state.failures):
                if fail_method == method:
                    del state.failures[i]
                    message = {403: "You have exceeded a secondary rate limit"}.get(status, "")
                    if status == 403 and not headers:
                        message = "Resource not accessible by integration"
                    return self._send(status, {"message": message or "Server Error"}, headers)
            found = state.answer(method, parts.path, parts.query, payload)
            if found is None:
                return self._send(404, {"message": "Not Found"})
            return self._send(*found)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


@contextmanager
def _serving(state: _State) -> Iterator[_State]:
    """`state` answering on a local port (its url set) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def fake_github(token: str) -> Iterator[FakeGitHub]:
    with _serving(FakeGitHub(token=token)) as state:
        yield state


@contextmanager
def pulls_github(token: str) -> Iterator[PullsGitHub]:
    with _serving(PullsGitHub(token=token)) as state:
        yield state
