"""What a pull request's CI run is about, from the event payload and the Actions
environment; every field can be overridden by a flag."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from perfci.git import merge_base as git_merge_base
from perfci.results import is_sha

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class ContextError(Exception):
    """A context value that is missing or malformed; one line for the user."""


@dataclass(frozen=True)
class PullContext:
    repository: str | None
    pr_number: int | None
    base_sha: str | None
    head_sha: str | None
    merge_base: str | None
    run_url: str | None
    api_url: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_payload(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload at $GITHUB_EVENT_PATH ({} when unset); ContextError for a file
    that is not regular (a FIFO would block), unreadable, or not JSON a decoder can follow."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ContextError(f"cannot read the event payload {path}: not a regular file")
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContextError(f"cannot read the event payload {path}: {exc}") from None
    except RecursionError:
        raise ContextError(f"cannot read the event payload {path}: nested too deeply") from None
    return payload if isinstance(payload, dict) else {}


def parse_pr_number(value: object) -> int:
    """A pull-request number, which may come from untrusted data: a positive integer in
    ASCII digits (str.isdigit alone takes '²', which `int` refuses)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) < 16) or not 0 < int(text) < 10**9:
        raise ContextError(f"{text[:40]!r} is not a pull-request number")
    return int(text)


def check_sha(value: str, what: str) -> str:
    """`value` in lower case when it is a git sha (`results.is_sha`, the one rule)."""
    if not is_sha(value.lower()):
        raise ContextError(f"{what} {value[:50]!r} is not a git sha")
    return value.lower()


def _payload_sha(pull: Mapping[str, Any], side: str) -> str | None:
    """pull_request.<side>.sha from the payload; ContextError unless <side> is an object
    whose sha is a string (either may be absent)."""
    ref = pull.get(side)
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise ContextError(f"the event's pull_request.{side} is not an object")
    sha = ref.get("sha")
    if sha is not None and not isinstance(sha, str):
        raise ContextError(f"the event's pull_request.{side}.sha is not a string")
    return sha or None


def pull_context(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> PullContext:
    """The PR number, base and head shas, merge-base and run URL; `overrides` (from flags)
    win over the payload, the payload over the environment. The merge-base comes from git
    when neither gives it."""
    env = os.environ if env is None else env
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    payload = load_payload(env)
    pull = payload.get("pull_request")
    pull = pull if isinstance(pull, dict) else {}
    repo = given.get("repository") or env.get("GITHUB_REPOSITORY")
    if repo is not None and not _REPO.fullmatch(repo):
        raise ContextError(f"{repo[:80]!r} is not an owner/name repository")
    number: Any = given.get("pr_number", pull.get("number"))
    base = given.get("base_sha") or _payload_sha(pull, "base")
    head = given.get("head_sha") or _payload_sha(pull, "head")
    base = check_sha(base, "base") if base else None
    head = check_sha(head, "head") if head else None
    merge_base = given.get("merge_base")
    if merge_base:
        merge_base = check_sha(merge_base, "merge-base")
    elif base and head:
        merge_base = git_merge_base(Path.cwd(), base, head)
    server, run_id = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_RUN_ID")
    run_url = given.get("run_url") or (
        f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
    )
    return PullContext(
        repository=repo,
        pr_number=parse_pr_number(number) if number is not None else None,
        base_sha=base,
        head_sha=head,
        merge_base=merge_base,
        run_url=run_url,
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
    )
