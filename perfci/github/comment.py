"""One sticky comment per pull request: found by a hidden marker and its author,
updated in place, created once."""

from __future__ import annotations

from dataclasses import dataclass

from perfci.github.client import GitHubClient, json_object

MARKER = "<!-- perfci:comment -->"
DEFAULT_AUTHOR = "github-actions[bot]"
PAGE_LINK = "Open the pull-request page"
COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment body
# what the comparison's Markdown may take of it: the marker, the page link and the
# trim's pointer fit in the rest, so the renderer fits itself and nothing is cut blind
MARKDOWN_LIMIT = COMMENT_LIMIT - 1_024
SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub shows of $GITHUB_STEP_SUMMARY per step


@dataclass(frozen=True)
class Posted:
    action: str  # "created" or "updated"
    comment_id: int
    url: str


def _note(report_url: str | None) -> str:
    where = (
        f"[the full report]({report_url})" if report_url else "the full report (the run's artifact)"
    )
    return f"\n\n…trimmed to GitHub's size limit; see {where}.\n"


def trim(text: str, limit: int, report_url: str | None = None, *, as_bytes: bool = False) -> str:
    """`text` cut at a line boundary so that it, with a pointer to the full report, fits
    `limit` characters (or UTF-8 bytes)."""

    def size(s: str) -> int:
        return len(s.encode()) if as_bytes else len(s)

    if size(text) <= limit:
        return text
    note = _note(report_url)
    budget = limit - size(note)
    cut = text.encode()[:budget].decode(errors="ignore") if as_bytes else text[:budget]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note


def page_link(page_url: str) -> str:
    """The line that links the comment to the pull request's page on the dashboard."""
    return f"[{PAGE_LINK}]({page_url}): base against head, every verdict, on the dashboard."


def comment_body(markdown: str, report_url: str | None = None, page_url: str | None = None) -> str:
    """The marker, then the comparator's Markdown, within GitHub's limit; with `page_url`,
    a last line links the pull request's dashboard page (kept when the report is trimmed)."""
    footer = f"\n{page_link(page_url)}\n" if page_url else ""
    body = trim(f"{MARKER}\n{markdown.strip()}\n", COMMENT_LIMIT - len(footer), report_url)
    return body + footer


def find_sticky(client: GitHubClient, repo: str, number: int, author: str) -> int | None:
    for comment in client.paginate(f"repos/{repo}/issues/{number}/comments?per_page=100"):
        if not isinstance(comment, dict) or not isinstance(comment.get("user") or {}, dict):
            continue  # not a comment as GitHub describes one: not ours to update
        login = (comment.get("user") or {}).get("login")
        if login == author and MARKER in (comment.get("body") or ""):
            return int(comment["id"])
    return None


def upsert_comment(
    client: GitHubClient, repo: str, number: int, body: str, author: str = DEFAULT_AUTHOR
) -> Posted:
    """Update perfci's comment on the pull request, or create it when there is none."""
    existing = find_sticky(client, repo, number, author)
    if existing is None:
        response = client.request(
            "POST", f"repos/{repo}/issues/{number}/comments", json={"body": body}
        )
        action = "created"
    else:
        response = client.request(
            "PATCH", f"repos/{repo}/issues/comments/{existing}", json={"body": body}
        )
        action = "updated"
    data = json_object(response, "id")
    return Posted(action, int(data["id"]), str(data.get("html_url", "")))


def pull_head_sha(client: GitHubClient, repo: str, number: int) -> str:
    data = json_object(client.request("GET", f"repos/{repo}/pulls/{number}"))
    head = data.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) else ""
