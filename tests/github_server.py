"""A local HTTP server that answers like GitHub's REST API for issue comments and pull
requests: pagination by Link header, and scripted failures (5xx, rate limits, 403)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE = 2  # small pages, so listing a few comments already needs the Link header


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
            segs = parts.path.strip("/").split("/")
            # /repos/{o}/{r}/issues/{n}/comments
            if len(segs) == 6 and segs[3] == "issues" and segs[5] == "comments":
                number = int(segs[4])
                if method == "GET":
                    page = int(parse_qs(parts.query).get("page", ["1"])[0])
                    mine = [c for c in state.comments if c["number"] == number]
                    chunk = mine[(page - 1) * PAGE : page * PAGE]
                    headers = {}
                    if page * PAGE < len(mine):
                        nxt = f"{state.url}{parts.path}?per_page=100&page={page + 1}"
                        headers["Link"] = f'<{nxt}>; rel="next"'
                    return self._send(200, chunk, headers)
                if method == "POST":
                    new = state.add_comment(number, payload["body"], "github-actions[bot]")
                    return self._send(201, {"id": new, "html_url": f"{state.url}/c/{new}"})
            # /repos/{o}/{r}/issues/comments/{id}
            if len(segs) == 6 and segs[3:5] == ["issues", "comments"] and method == "PATCH":
                for c in state.comments:
                    if c["id"] == int(segs[5]):
                        c["body"] = payload["body"]
                        return self._send(
                            200, {"id": c["id"], "html_url": f"{state.url}/c/{c['id']}"}
                        )
            # /repos/{o}/{r}/pulls/{n}
            if len(segs) == 5 and segs[3] == "pulls" and method == "GET":
                number = int(segs[4])
                if number in state.pulls:
                    return self._send(200, {"number": number, "head": {"sha": state.pulls[number]}})
            return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


@contextmanager
def fake_github(token: str) -> Iterator[FakeGitHub]:
    state = FakeGitHub(token=token)
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
