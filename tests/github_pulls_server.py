"""The local GitHub of github_server.py, answering for pull requests as the API does for
the trust check: the head's repository, the labels, the base commit, commit statuses (the
mark perf-ok.yml sets on the labelled head) and the merge-base of a comparison."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from github_server import PAGE, FakeGitHub, _handler

REPO = "octo/ml"


@dataclass
class PullsGitHub(FakeGitHub):
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


def _answer(state: PullsGitHub, method: str, path: str, query: str) -> tuple[Any, str] | None:
    """The body (and the Link header's next page, or '') for the routes this server adds
    or answers more fully; None for the rest."""
    segs = path.strip("/").split("/")
    if method != "GET" or len(segs) < 5 or segs[:3] != ["repos", *state.repo.split("/")]:
        return None
    if len(segs) == 5 and segs[3] == "pulls" and int(segs[4]) in state.pulls:
        return state.pull(int(segs[4])), ""
    if len(segs) == 6 and segs[3] == "commits" and segs[5] == "statuses":
        page = int(parse_qs(query).get("page", ["1"])[0])
        mine = state.statuses.get(segs[4], [])
        more = page * PAGE < len(mine)
        return mine[(page - 1) * PAGE : page * PAGE], f"{path}?per_page=100&page={page + 1}" * more
    if len(segs) == 5 and segs[3] == "compare" and "..." in segs[4]:
        head = segs[4].split("...", 1)[1]
        if head in state.merge_bases:
            return {"merge_base_commit": {"sha": state.merge_bases[head]}}, ""
    return None


def _pulls_handler(state: PullsGitHub) -> type[BaseHTTPRequestHandler]:
    base: Any = _handler(state)

    class Handler(base):
        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            authed = self.headers.get("Authorization") == f"Bearer {state.token}"
            failing = any(m == method for m, _, _ in state.failures)
            found = _answer(state, method, parts.path, parts.query)
            if not authed or failing or found is None:
                return super()._handle(method)
            state.requests.append((method, parts.path, authed))
            body, next_page = found
            link = {"Link": f'<{state.url}{next_page}>; rel="next"'} if next_page else {}
            return self._send(200, body, link)

    return Handler


@contextmanager
def pulls_github(token: str) -> Iterator[PullsGitHub]:
    state = PullsGitHub(token=token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _pulls_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
