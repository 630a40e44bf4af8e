"""A history-mode pull request's regression profiled, end to end with real processes on a
real repository whose head adds a matmul: main's runs of the merge-base, the action's
"Run the suites" and "Compare" steps (their very bash) for the pull request, which
profile the regression on the baseline's commit and the head into the results folder;
then perf-comment's side: the trusted comment renders the why section from the checked
diff, `perfci keep` keeps it, and the dashboard's page shows the diff's rows and links
the traces."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from github_server import REPO, pulls_github
from test_ab_command import git
from test_ab_explain import planted_matmul_repo
from test_workflows import GITHUB, tool

from perfci.dashboard import naming
from perfci.explain.history import ENTRY, read_entry

pytest.importorskip("torch", reason="the planted regression is a torch workload")

NUMBER = 42
TOKEN = "ghs_history_explain_token_01"


def step(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((GITHUB / "actions" / "perfci" / "action.yml").read_text())
    (found,) = [s for s in doc["runs"]["steps"] if s.get("name") == name]
    return dict(found)


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    env.pop("CI", None)
    return {**env, **values}


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Main's four runs of the merge-base kept as results files, then the pull request's
    job in history mode: what it left, and where."""
    root = tmp_path_factory.mktemp("history-explain")
    repo = planted_matmul_repo(root / "repo")
    base, head = git(repo, "rev-parse", "HEAD~1"), git(repo, "rev-parse", "HEAD")
    db = f"sqlite:///{root / 'pr.db'}"
    perfci = tool("perfci")
    runs = root / "runs"  # perfci-data's runs/: main's kept results files
    runs.mkdir()
    git(repo, "checkout", "-q", base)
    for _ in range(4):
        done = subprocess.run([perfci, "run", "--db", db], cwd=repo, env=clean_env(),
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
    for path in (repo / ".perfci" / "results").glob("run-*.json"):
        shutil.copy(path, runs / path.name)
    git(repo, "checkout", "-q", "main")
    temp, output = root / "runner-temp", root / "github-output"
    (temp / "perfci-out").mkdir(parents=True)
    output.write_text("")
    event = root / "event.json"
    event.write_text(json.dumps({"number": NUMBER, "pull_request": {
        "number": NUMBER, "head": {"sha": head, "ref": "more-matmul"},
        "base": {"sha": base, "ref": "main"}}}))  # fmt: skip
    env = clean_env(
        PERFCI=perfci, PERFCI_DB=db, MODE="pr", COMPARE="history", PROFILE="quick",
        PYTEST_ARGS="suites/test_work.py", BUDGET="20m", EXPLAIN_BUDGET="5m", HEAD_SHA=head,
        MERGE_BASE=base, PR_NUMBER=str(NUMBER), BEFORE="", RUNNER_TEMP=str(temp),
        GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(root / "summary.md"),
        GITHUB_EVENT_NAME="pull_request_target", GITHUB_EVENT_PATH=str(event),
    )  # fmt: skip
    ran = bash(step("Run the suites")["run"], repo, env)
    assert ran.returncode == 0, ran.stderr
    compared = bash(step("Compare")["run"], repo, env)
    assert compared.returncode == 0, compared.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    yield {"root": root, "repo": repo, "base": base, "head": head, "runs": runs, "env": env,
           "out": temp / "perfci-out", "outputs": outputs, "stderr": compared.stderr}  # fmt: skip


def test_the_compare_step_profiles_the_regression_into_the_results(job: dict[str, Any]) -> None:
    out = job["out"]
    assert job["outputs"] == {"report": f"{out}/report.md", "results": str(out), "gate": "1"}
    report = (out / "report.md").read_text()
    assert report.startswith("**perfci: ") and "regression" in report.splitlines()[0]
    assert "<details><summary>Why suites/test\\_work::" in report
    assert "| `aten::mm` |" in report and "calls 1 → 2" in report
    profiled = read_entry(out)  # checked as the trusted side checks it
    assert (profiled.base, profiled.head) == (job["base"], job["head"])
    (test,) = profiled.explained.entry.tests
    assert test.nodeid == "suites/test_work.py::test_matmul"
    assert len([t for t in test.traces if t.endswith("torch-trace.json")]) == 4
    assert "suites/test_work.py::test_matmul: profiled head" in job["stderr"]
    # the worktrees are gone, and nothing but results in the folder's top level
    assert git(job["repo"], "worktree", "list").count("\n") == 0
    assert {p.suffix for p in out.iterdir() if p.is_file()} <= {".json", ".md", ""}
    assert (out / ENTRY).is_file()


def test_perf_comment_renders_keeps_and_publishes_the_diff(job: dict[str, Any]) -> None:
    root, out, head = job["root"], job["out"], job["head"]
    scratch = job["env"] | {"PERFCI_DB": f"sqlite:///{root / 'comment.db'}"}
    perfci = tool("perfci")
    done = subprocess.run([perfci, "rebuild", "--from", str(job["runs"])], cwd=job["repo"],
                          env=scratch, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [perfci, "comment", "--results", str(out), "--pr", str(NUMBER), "--head-sha", head,
         "--base", job["base"], "--dry-run"],
        cwd=job["repo"], env=scratch, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "<details><summary>Why suites/test\\_work::" in done.stdout
    assert "| `aten::mm` |" in done.stdout

    data = root / "perfci-data"
    data.mkdir()
    with pulls_github(TOKEN) as github:
        github.pulls[NUMBER] = head
        env = scratch | {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url,
                         "GITHUB_REPOSITORY": REPO}  # fmt: skip
        done = subprocess.run(
            [perfci, "keep", str(out), "--pr", str(NUMBER), "--head-sha", head, "--into",
             str(data)], cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 profile diff(s) with 4 raw trace(s)" in done.stdout

    site_env = job["env"] | {"PERFCI_DB": f"sqlite:///{root / 'site.db'}"}
    for source in (job["runs"], data / "pulls"):
        done = subprocess.run([perfci, "rebuild", "--from", str(source)], cwd=job["repo"],
                              env=site_env, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0 and done.stderr == "", done.stderr
    site = root / "site"
    command = [perfci, "dashboard", "--out", str(site), "--pulls", str(data / "pulls")]
    done = subprocess.run(command, cwd=job["repo"], env=site_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (site / naming.pull_request_page(NUMBER)).read_text()
    mm = re.search(r'<tr class="change-changed"><td><code>aten::mm</code>.*?</tr>', text, re.S)
    assert mm is not None and '<td class="num">1 → 2</td>' in mm.group(0)
    links = re.findall(r'<a class="trace" href="\.\./([^"]+)" download>', text)
    assert len(links) == 4
    for href in links:
        trace = json.loads(gzip.decompress((site / href).read_bytes()))
        assert any(ev.get("name", "").startswith("aten::") for ev in trace["traceEvents"])


def test_a_head_without_a_run_or_a_ref_git_does_not_know_is_one_line(
    job: dict[str, Any], tmp_path: Path
) -> None:
    python = str(Path(tool("perfci")).parent / "python")
    for head, message in ((git(job["repo"], "rev-parse", "HEAD~2"), "has no stored run"),
                          ("no-such-ref", "--head names no commit git knows here")):  # fmt: skip
        done = subprocess.run(
            [python, "-m", "perfci.explain.history", "--base", job["base"], "--head", head,
             "--results", str(tmp_path)], cwd=job["repo"], env=job["env"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_profiling_that_cannot_run_leaves_the_gate_and_the_job_alone(
    job: dict[str, Any], tmp_path: Path
) -> None:
    temp, output = tmp_path / "runner-temp", tmp_path / "github-output"
    (temp / "perfci-out").mkdir(parents=True)
    output.write_text("")
    env = job["env"] | {"RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(output),
                        "EXPLAIN_BUDGET": "soon"}  # fmt: skip
    done = bash(step("Compare")["run"], job["repo"], env)
    assert done.returncode == 0, done.stderr
    assert "::notice::the regressions were not profiled (exit 2)" in done.stdout
    assert "gate=1" in output.read_text() and not (temp / "perfci-out" / "explain").exists()
