"""A small GitHub REST client over httpx: bounded retries, pagination, a secret token.

Retries follow GitHub's guidance: 5xx and connection errors back off exponentially with
jitter; a secondary rate limit (403/429 with `Retry-After`, or `x-ratelimit-remaining: 0`
with `x-ratelimit-reset`) waits as told. Attempts and total waiting are both bounded.
The token lives only in the Authorization header: it never appears in messages.

A redirect is not followed (the token goes only to the API URL it was given) and is not
success either: a renamed or moved repository answers 301, which is one clear line, as
is a successful answer whose body is not JSON.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_API_URL = "https://api.github.com"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(Exception):
    """A request that failed for good; the message is one line, without the token."""


@dataclass
class RetryPolicy:
    attempts: int = 5
    max_total_wait: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default=random.random)


def _retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when it asks nothing."""
    after = response.headers.get("retry-after")
    if after is not None:
        try:
            return max(0.0, float(after))
        except ValueError:
            return None
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset")
        try:
            return max(0.0, float(reset) - now) if reset is not None else None
        except ValueError:
            return None
    return None


def _describe(response: httpx.Response) -> str:
    try:
        message = response.json().get("message", "")
    except (ValueError, AttributeError):
        message = ""
    detail = f": {' '.join(str(message).split())[:200]}" if message else ""
    request = response.request
    return f"{request.method} {request.url.path} answered {response.status_code}{detail}"


def _redirected(response: httpx.Response, failure: str) -> str:
    where = response.headers.get("location", "")
    to = f" to {' '.join(where.split())[:200]}" if where else ""
    return (
        f"{failure}: redirected{to}, which perfci does not follow (was the repository "
        "renamed or moved? name it as it is now)"
    )


def _checked_json(response: httpx.Response) -> httpx.Response:
    """`response` when its body is empty or JSON (every answer perfci asks for is)."""
    if response.content:
        try:
            response.json()
        except ValueError:  # not JSON, or not UTF-8
            request = response.request
            raise GitHubError(
                f"{request.method} {request.url.path} answered {response.status_code} "
                "with a body that is not JSON"
            ) from None
    return response


def json_object(response: httpx.Response, *required: str) -> dict[str, Any]:
    """The JSON object `response` answered, with each of `required`; GitHubError else."""
    data = response.json() if response.content else None
    request = response.request
    what = f"{request.method} {request.url.path}"
    if not isinstance(data, dict):
        raise GitHubError(f"{what} did not answer a JSON object")
    for key in required:
        if data.get(key) is None:
            raise GitHubError(f"{what} answered without `{key}`")
    return data


class GitHubClient:
    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=api_url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "perfci",
            },
            timeout=timeout,
            trust_env=False,  # only the API URL we were given, never a proxy from the env
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, json: Any = None) -> httpx.Response:
        """One request with retries; raises GitHubError when it cannot succeed."""
        policy = self._retry
        waited = 0.0
        for attempt in range(1, policy.attempts + 1):
            wait: float | None
            try:
                response = self._http.request(method, url.lstrip("/"), json=json)
            except httpx.TransportError as exc:
                failure = f"{method} {url}: {type(exc).__name__}"
                wait = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
                wait *= 0.5 + policy.jitter()
            else:
                if response.status_code < 300:
                    return _checked_json(response)
                failure = _describe(response)
                if response.status_code < 400:
                    raise GitHubError(_redirected(response, failure))
                asked = _retry_after(response, time.time())
                if response.status_code in (403, 429) and asked is not None:
                    wait = asked  # a rate limit: wait as long as GitHub says
                elif response.status_code >= 500:
                    wait = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
                    wait *= 0.5 + policy.jitter()
                else:
                    if response.status_code == 403:
                        failure += " (permission denied: does the token have pull-requests: write?)"
                    raise GitHubError(failure)
            if attempt == policy.attempts or waited + wait > policy.max_total_wait:
                raise GitHubError(f"{failure}; gave up after {attempt} attempts")
            policy.sleep(wait)
            waited += wait
        raise AssertionError("unreachable")

    def paginate(self, url: str) -> Iterator[Any]:
        """Every item of a listed resource, following the `Link: rel="next"` header."""
        next_url: str | None = url
        while next_url:
            response = self.request("GET", next_url)
            items = response.json()
            if not isinstance(items, list):
                raise GitHubError(f"GET {url} did not answer a list")
            yield from items
            found = _NEXT.search(response.headers.get("link", ""))
            next_url = found.group(1) if found else None
            if next_url and not next_url.startswith(str(self._http.base_url)):
                # the token goes only to the API we were given
                raise GitHubError(f"GET {url}: next page is on another host")
