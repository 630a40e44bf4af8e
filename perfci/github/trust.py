"""Whether a pull request's results may be kept and posted now, asked of GitHub's API.

perf-pr's artifact comes from a run of the pull request's own copy of perf-pr.yml: a
fork can delete the `perf-ok` gate from it and produce valid-looking results on any
runner. So the trusted side (perf-comment) decides from what GitHub itself says at the
moment it keeps or posts, never from the artifact:

- a pull request whose head branch lives in this repository (its authors can push here
  already) is trusted as before;
- a fork's pull request only while it carries the `perf-ok` label, while its head is the
  very commit the results are of, and when that commit is the one the label was given
  for. GitHub records no push time, so "given for" is the commit status
  `perfci/perf-ok` that perf-ok.yml (a `pull_request_target` job on the `labeled` event,
  running the default branch's workflow) sets on the head commit GitHub names in the
  label's event. A fork cannot set a status in this repository, and a push after the
  label brings a head without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfci.github.client import GitHubClient, GitHubError
from perfci.github.comment import DEFAULT_AUTHOR
from perfci.github.event import ContextError, check_sha

LABEL = "perf-ok"
STATUS_CONTEXT = "perfci/perf-ok"  # set by perf-ok.yml on the commit the label was given for
REFUSED = 3  # exit status of a refusal: not bad input (2), not a regression (1)


class Refused(Exception):
    """The pull request may not be kept or posted now; the message is one line."""


@dataclass(frozen=True)
class PullRequest:
    """What the API says of a pull request now."""

    number: int
    head_sha: str
    head_repo: str | None  # None: the fork was deleted
    base_repo: str
    base_sha: str
    labels: frozenset[str]

    @property
    def fork(self) -> bool:
        return self.head_repo is None or self.head_repo.lower() != self.base_repo.lower()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_pull(client: GitHubClient, repo: str, number: int) -> PullRequest:
    """The pull request `number` of `repo` as the API has it; GitHubError when the answer
    lacks its head or base commit."""
    data = _dict(client.request("GET", f"repos/{repo}/pulls/{number}").json())
    head, base = _dict(data.get("head")), _dict(data.get("base"))
    head_repo = _text(_dict(head.get("repo")).get("full_name")) or None
    labels = data.get("labels")
    names = {_text(_dict(x).get("name")) for x in labels} if isinstance(labels, list) else set()
    try:
        head_sha = check_sha(_text(head.get("sha")), "its head")
        base_sha = check_sha(_text(base.get("sha")), "its base")
    except ContextError as exc:
        raise GitHubError(f"GET repos/{repo}/pulls/{number}: {exc}") from None
    return PullRequest(
        number=number,
        head_sha=head_sha,
        head_repo=head_repo,
        base_repo=_text(_dict(base.get("repo")).get("full_name")) or repo,
        base_sha=base_sha,
        labels=frozenset(names - {""}),
    )


def labelled_for(
    client: GitHubClient, repo: str, sha: str, marker_author: str = DEFAULT_AUTHOR
) -> bool:
    """Whether the newest `perfci/perf-ok` status that `marker_author` (the workflows'
    token) set on commit `sha` says success: the label was given while `sha` was the
    head."""
    for status in client.paginate(f"repos/{repo}/commits/{sha}/statuses?per_page=100"):
        status = _dict(status)
        creator = _text(_dict(status.get("creator")).get("login"))
        if status.get("context") == STATUS_CONTEXT and creator == marker_author:
            return status.get("state") == "success"  # newest first: this one decides
    return False


def check_pull(
    client: GitHubClient,
    repo: str,
    number: int,
    head_sha: str,
    *,
    label: str = LABEL,
    marker_author: str = DEFAULT_AUTHOR,
) -> PullRequest:
    """The pull request, when results of its commit `head_sha` (a full sha) may be kept
    and posted now; Refused, with the reason, when it is a fork's and the label is not
    on it, its head is another commit, or the label was given for an earlier head. A
    same-repository pull request is returned as it is: whether it has moved on is the
    caller's to tell, as before."""
    pull = read_pull(client, repo, number)
    if not pull.fork:
        return pull
    where = f"pull request #{number} from {pull.head_repo or 'a deleted fork'}"
    if pull.head_sha != head_sha:
        raise Refused(
            f"{where}: its head is now {pull.head_sha[:12]}, not {head_sha[:12]}, the commit "
            "these results are of"
        )
    if label not in pull.labels:
        raise Refused(
            f"{where} has no {label} label: a maintainer adds it after reading the change"
        )
    if not labelled_for(client, repo, head_sha, marker_author):
        raise Refused(
            f"{where}: the {label} label was given for an earlier head, not {head_sha[:12]}; "
            "remove it and add it again once the new commits are read"
        )
    return pull


def merge_base(client: GitHubClient, repo: str, base: str, head: str) -> str:
    """The merge-base of commits `base` and `head`, from the API's comparison of the two
    (the runner's git is not at hand in the trusted job)."""
    data = _dict(client.request("GET", f"repos/{repo}/compare/{base}...{head}").json())
    found = _text(_dict(data.get("merge_base_commit")).get("sha"))
    try:
        return check_sha(found, "its merge-base")
    except ContextError as exc:
        raise GitHubError(f"GET repos/{repo}/compare/{base[:12]}...{head[:12]}: {exc}") from None
