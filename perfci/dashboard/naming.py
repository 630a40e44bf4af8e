"""The site's URL scheme: stable, readable, collision-free paths relative to its root."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from perfci.results import canonical_params

OVERVIEW = "index.html"
RUNS = "runs.html"
MACHINES = "machines.html"
BACKENDS = "backends.html"
RUNS_PER_PAGE = 200  # a table of a few hundred rows lays out in a browser at once


def runs_archive_page(number: int) -> str:
    """Runs RUNS_PER_PAGE at a time, numbered from the oldest: page 1 holds the first runs
    ever stored, so a full page keeps its address and its content."""
    return f"runs/{number}.html"


def slug(text: str, limit: int = 60) -> str:
    """Lower-case letters, digits, '_' and '-' only: safe in a file name and a URL."""
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")[:limit] or "x"


def benchmark_page(suite: str, name: str) -> str:
    """One page per suite and name, all parameter variants on it. The hash keeps two
    names that slug alike ('a b' and 'a-b') apart; the slug keeps it readable."""
    digest = hashlib.sha256(f"{suite}\0{name}".encode()).hexdigest()[:8]
    return f"b/{slug(suite)}--{slug(name)}-{digest}.html"


def variant_anchor(key: str) -> str:
    return f"v-{key[:12]}"


def comparison_anchor(benchmark: str, params: dict[str, Any], metric: str) -> str:
    """One verdict's row on a pull-request page, which the PR comment links to: stable for
    a benchmark label (suite::name), its parameters and the metric."""
    key = "\0".join((benchmark, canonical_params(params), metric))
    return f"c-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def pull_request_page(number: int) -> str:
    return f"pr/{number}.html"


def pull_request_url(base_url: str, number: int) -> str:
    """The pull-request page's address under the published site's root `base_url` (what
    `--base-url` names), for the PR comment to link to; stable across builds."""
    return f"{base_url.rstrip('/')}/{pull_request_page(number)}"


def machine_anchor(machine_id: int) -> str:
    return f"m-{machine_id}"


def environment_anchor(fingerprint: str) -> str:
    return f"e-{fingerprint[:12]}"


def safe_href(url: str | None) -> str | None:
    """`url` when it is http(s); anything else (javascript:, data:) is not a link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def commit_url(repo_url: str | None, sha: str) -> str | None:
    return f"{repo_url.rstrip('/')}/commit/{sha}" if repo_url else None


def params_label(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "(no parameters)"
