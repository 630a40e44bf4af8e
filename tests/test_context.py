"""Which commit and CI run a measurement belongs to: git, and the GitHub Actions environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfci.context import commit_from_git, current_commit, first_parent_chain, run_context

HEAD_SHA = "a" * 40


def actions_env(tmp_path: Path, event: str, payload: dict[str, object]) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "team/models",
        "GITHUB_RUN_ID": "42",
        "GITHUB_SHA": "b" * 40,
        "GITHUB_REF_NAME": "main",
    }


def test_outside_actions_a_run_is_manual() -> None:
    assert run_context({}).trigger == "manual"


def test_a_pull_request_event_names_the_head_not_the_merge_commit(tmp_path: Path) -> None:
    payload = {"pull_request": {"number": 17, "head": {"sha": HEAD_SHA, "ref": "faster-attention"}}}
    context = run_context(actions_env(tmp_path, "pull_request", payload))
    assert context.trigger == "pull_request"
    assert context.pr_number == 17
    assert context.head_sha == HEAD_SHA
    assert context.branch == "faster-attention"
    assert context.ci_url == "https://github.example/team/models/actions/runs/42"


def test_a_push_event_names_github_sha(tmp_path: Path) -> None:
    context = run_context(actions_env(tmp_path, "push", {"ref": "refs/heads/main"}))
    assert (context.trigger, context.head_sha, context.branch) == ("push", "b" * 40, "main")


def test_an_unreadable_event_payload_still_gives_a_context(tmp_path: Path) -> None:
    env = actions_env(tmp_path, "pull_request", {})
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    assert run_context(env).trigger == "manual"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_commit_metadata_and_first_parent_chain_come_from_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    first = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "two: `code` & <tags>")
    second = git(tmp_path, "rev-parse", "HEAD")

    commit = commit_from_git(tmp_path)
    assert commit is not None
    assert (commit.sha, commit.parents, commit.branch) == (second, (first,), "main")
    assert commit.subject == "two: `code` & <tags>"
    assert commit.author_time is not None
    assert first_parent_chain(tmp_path, second) == [second, first]

    # In Actions, a PR head that this clone lacks is still recorded, without metadata.
    unknown = current_commit(
        tmp_path,
        run_context(
            actions_env(
                tmp_path,
                "pull_request",
                {"pull_request": {"number": 1, "head": {"sha": HEAD_SHA, "ref": "x"}}},
            )
        ),
    )
    assert unknown is not None and (unknown.sha, unknown.branch) == (HEAD_SHA, "x")


def test_outside_git_there_is_no_commit(tmp_path: Path) -> None:
    assert commit_from_git(tmp_path) is None
    assert first_parent_chain(tmp_path, HEAD_SHA) == []


@pytest.mark.parametrize("value", ["abcd", "A" * 40, "0" * 64])
def test_an_actions_sha_follows_the_one_sha_rule(value: str) -> None:
    """The event reader takes shas by the rule every other command uses (4 to 64 hex
    digits: abbreviated, SHA-1 and SHA-256 object names)."""
    from perfci.github.event import check_sha

    assert check_sha(value, "head") == value.lower()


@pytest.mark.parametrize("value", ["abc", "0" * 65, "g" * 40, "-x"])
def test_anything_else_is_not_a_sha(value: str) -> None:
    from perfci.github.event import ContextError, check_sha

    with pytest.raises(ContextError, match="is not a git sha"):
        check_sha(value, "head")
