"""A rehearsal of the pull-request workflows: a real `pull_request` event payload goes
through the same commands perf-pr.yml runs, and the very scripts of perf-comment.yml's and
perf-pages.yml's steps, against a local server that answers like GitHub's REST API. Two
pushes: the first creates the comment, the second updates it, each linking the PR's page
on the dashboard that perf-pages builds from perfci-data; a 502 is retried; a 403 without
retry headers fails clearly. The comment is perfci's comparison of the checked results,
never the artifact's Markdown; a fork's results are kept and posted only with perf-ok
given for their head commit."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from factories import benchmark, run, sha, write
from github_server import PullsGitHub, pulls_github
from site_data import page_data
from test_cli import PERFCI, perfci

from perfci.compare import PROCESS_WIDE
from perfci.context import run_context
from perfci.dashboard import naming
from perfci.github.comment import MARKER, PAGE_LINK
from perfci.github.trust import REFUSED
from perfci.results import RunResult

TOKEN = "ghs_rehearsal_token_0123456789"
EVENT = Path(__file__).parent / "data" / "pull_request_event.json"
WORKFLOWS = Path(__file__).parents[1] / ".github" / "workflows"
HOSTILE = "test_attn[<img src=x>|@octo/perf]"
PAGES_URL = "https://octo.github.io/ml/"  # what actions/deploy-pages gives as page_url
LINK = re.compile(re.escape(f"[{PAGE_LINK}](") + r"(\S+?)\)")


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def step_script(workflow: str, name: str) -> str:
    """The bash of the step called `name`, exactly as the workflow holds it."""
    text = (WORKFLOWS / workflow).read_text()
    block = text.split(f"- name: {name}\n", 1)[1].split("run: |\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line.strip() and not line.startswith(" " * 10):
            break
        lines.append(line[10:])
    return "\n".join(lines)


def run_step(
    workflow: str, name: str, temp: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run a workflow step's script as the runner does: bash, `perfci` on PATH, a
    $RUNNER_TEMP and a $GITHUB_OUTPUT file; returns the process and the step's outputs."""
    output = temp / "github-output"
    output.write_text("")
    base = {
        "PATH": f"{Path(PERFCI).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(output),
    }
    workspace = temp / "workspace"  # the checkout of the default branch
    workspace.mkdir(exist_ok=True)
    done = subprocess.run(
        ["bash", "-c", step_script(workflow, name)],
        cwd=workspace, env={**base, **env}, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done, outputs


def build_pages(data: Path, temp: Path) -> tuple[Path, str]:
    """perf-pages.yml's build job on a checkout of perfci-data: the site and the log."""
    (temp / "perfci-data").symlink_to(data)
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo/ml"}
    done, _ = run_step("perf-pages.yml", "Build the dashboard from the kept results", temp, env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return temp / "site", done.stdout


def pull_run(result: RunResult, env: dict[str, str]) -> RunResult:
    """The results `perfci run` writes in a pull request's workflow: trigger, number, run
    URL and branch come from the event, as the plugin reads them."""
    context = run_context(env)
    assert result.commit is not None
    record = dataclasses.replace(
        result.run, trigger=context.trigger, pr_number=context.pr_number, ci_url=context.ci_url
    )
    commit = dataclasses.replace(result.commit, branch=context.branch)
    return dataclasses.replace(result, run=record, commit=commit)


SECTIONS = {"**Regressions**": "regression", "**Improvements**": "improvement"}
SECTIONS["**Failures**"] = "error"
# a fold's summary names its verdict: "3 unchanged: …", "2 inconclusive: …", "4 metrics
# without a verdict yet: …", "1 new: …", "1 missing: …" (process-wide figures: none)
FOLDS = {" unchanged": "unchanged", " inconclusive": "inconclusive", "verdict yet": "inconclusive"}
FOLDS |= {" new:": "new", " missing:": "missing"}


def _fold_verdict(line: str) -> str | None:
    return next((v for word, v in FOLDS.items() if word in line.split("</summary>")[0]), None)


def verdicts_in_comment(body: str) -> list[tuple[str, str]]:
    """(metric, verdict) of every row of the comment's tables: the changes (regressions,
    failures, improvements) shown, and the folded ones, whose fold names the verdict."""
    rows: list[tuple[str, str]] = []
    verdict, metric_at = None, None
    for line in body.splitlines():
        if line in SECTIONS or line.startswith("<details>"):
            verdict, metric_at = SECTIONS.get(line) or _fold_verdict(line), None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if not cells or verdict is None or set(cells[0]) <= {"-"}:
            continue
        if cells[0] == "benchmark":
            metric_at = cells.index("metric")
        elif metric_at is not None:
            rows.append((cells[metric_at].strip("`"), verdict))
    return sorted(rows)


def verdicts_on_page(html: str) -> list[tuple[str, str]]:
    """(metric, verdict) of the page's rows, but the process-wide figures (judged
    nowhere, folded apart in the comment)."""
    rows = re.findall(r'<tr id="c-\w+" class="verdict-(\w+)"><td>.*?</td><td>(\w+) <span', html)
    return sorted((m, v) for v, m in rows if m not in PROCESS_WIDE)


@pytest.fixture
def github() -> Iterator[PullsGitHub]:
    with pulls_github(TOKEN) as state:
        yield state


class Rehearsal:
    def __init__(self, tmp: Path, github: PullsGitHub) -> None:
        self.tmp, self.github = tmp, github
        self.repo = tmp / "repo"
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        self.base = commit(self.repo, "Base")
        git(self.repo, "checkout", "-q", "-b", "fuse-attention")
        self.db = f"sqlite:///{tmp / 'store' / 'perfci.db'}"
        self.outputs: list[str] = []
        self.jobs = 0
        # main's history: four runs of the base commit, kept on perfci-data as perf-main
        # keeps them, and in the runner's store
        self.data = tmp / "perfci-data"
        (self.data / "runs").mkdir(parents=True)
        files = [
            str(
                write(
                    run(commit=self.base, benchmarks=(benchmark(HOSTILE, seed=i),)),
                    self.data / "runs" / f"{self.base}-run-{i}.json",
                )
            )
            for i in range(4)
        ]
        self.check(perfci("ingest", *files, "--db", self.db, cwd=self.repo))

    def check(self, done: subprocess.CompletedProcess[str], code: int = 0) -> str:
        self.outputs += [done.stdout, done.stderr]
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    def runner(self, artifact: Path | None = None) -> Path:
        """A fresh job's $RUNNER_TEMP, with the artifact downloaded into perfci-pr."""
        self.jobs += 1
        temp = self.tmp / f"runner{self.jobs}"
        temp.mkdir()
        if artifact is not None:
            shutil.copytree(artifact, temp / "perfci-pr")
        return temp

    def trusted_env(self) -> dict[str, str]:
        """What perf-comment's jobs see: a write token, the API, no way out but 127.0.0.1."""
        return {
            "GITHUB_EVENT_NAME": "workflow_run",
            "GITHUB_REPOSITORY": "octo/ml",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_TOKEN": TOKEN,
            "PERFCI_GITHUB_BACKOFF": "0.01",
            # a dead proxy: anything that left 127.0.0.1 through the environment would fail
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
        }

    def pr_job(self, push: int, head: str, latency: float) -> tuple[Path, int]:
        """perf-pr.yml (`pull_request_target`, the PR's head checked out): no token;
        context, measure (here: ingest), compare, summary. A fork's edited workflow
        would write the same artifact."""
        event = self.tmp / f"event{push}.json"
        text = EVENT.read_text().replace("HEAD_SHA", head).replace("BASE_SHA", self.base)
        event.write_text(text.replace("BEFORE_SHA", self.base))
        artifact = self.tmp / f"artifact{push}"
        artifact.mkdir()
        summary = self.tmp / f"summary{push}.md"
        env = {
            "PATH": os.environ["PATH"],
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "octo/ml",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": f"900{push}",
            "GITHUB_STEP_SUMMARY": str(summary),
            "PERFCI_DB": self.db,
        }
        context = dict(
            line.split("=", 1)
            for line in self.check(perfci("context", cwd=self.repo, env=env)).splitlines()
        )
        assert context["pr_number"] == "42" and context["head_sha"] == head
        assert context["merge_base"] == self.base  # from git, as on the runner
        measured = run(
            commit=head,
            parents=(git(self.repo, "rev-parse", f"{head}^"),),
            benchmarks=(benchmark(HOSTILE, latency=latency, seed=9),),
            started_at=f"2026-11-0{1 + push}T10:00:00+00:00",  # after main's runs
        )
        head_file = write(pull_run(measured, env), artifact / f"run-{push}.json")
        self.check(perfci("ingest", str(head_file), cwd=self.repo, env=env))
        compared = perfci(
            "compare", "--base", context["merge_base"], "--head", head,
            "--format", "markdown", "--fail-on-regression", cwd=self.repo, env=env,
        )  # fmt: skip
        gate = compared.returncode
        self.check(compared, gate)
        (artifact / "report.md").write_text(compared.stdout)
        (artifact / "pr-number").write_text(context["pr_number"] + "\n")
        (artifact / "head-sha").write_text(head + "\n")
        self.check(perfci("summary", str(artifact / "report.md"), cwd=self.repo, env=env))
        assert summary.read_text().strip() == compared.stdout.strip()
        return artifact, gate

    def keep_job(self, artifact: Path, head: str, code: int = 0) -> tuple[str, bool]:
        """perf-comment.yml's keep job: the artifact checked, then kept on perfci-data."""
        temp = self.runner(artifact)
        (temp / "perfci-data").symlink_to(self.data)
        env = {**self.trusted_env(), "HEAD_SHA": head}
        done, outputs = run_step(
            "perf-comment.yml", "Check the results and keep them for the dashboard", temp, env
        )
        self.check(done, code)
        return done.stdout + done.stderr, outputs.get("kept") == "true"

    def pages_job(self) -> Path:
        """perf-pages.yml, called by perf-comment after the keep job: the built site."""
        site, log = build_pages(self.data, self.runner())
        self.outputs.append(log)
        return site

    def comment_job(
        self, artifact: Path, head: str, code: int = 0, page_url: str = PAGES_URL
    ) -> str:
        """perf-comment.yml's comment job: a write token, the artifact as data, no PR code;
        the dashboard's address from the pages job."""
        env = {
            **self.trusted_env(),
            "HEAD_SHA": head,
            "RUN_URL": "https://github.com/octo/ml/actions/runs/9001",
            "PERFCI_DASHBOARD_URL": page_url,
        }
        temp = self.runner(artifact)
        (temp / "perfci-data").symlink_to(self.data)  # the job's checkout of perfci-data
        done, _ = run_step("perf-comment.yml", "Post or update the comment", temp, env)
        out = self.check(done, code)
        # main's kept runs, rebuilt into the job's scratch store before anything else
        rebuilt, _, rest = out.partition("\n")
        assert rebuilt.endswith(f"from {len(list((self.data / 'runs').iterdir()))} files")
        return rest if code == 0 else done.stderr

    def point(self, head: str, number: int = 42) -> None:
        """GitHub now names `head` the pull request's head, forked from main's base."""
        self.github.pulls[number] = head
        self.github.merge_bases[head] = self.base


def assert_inert(body: str) -> None:
    """The hostile benchmark name renders as text: no tag from it, and its mention only
    inside code, where GitHub links nothing (cmark-gfm renders as GitHub does)."""
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders Markdown as GitHub does")
    rendered = cmarkgfm.github_flavored_markdown_to_html(body)
    assert "<img" not in rendered
    outside_code = re.sub(r"<code>.*?</code>", "", rendered, flags=re.S)
    assert "@octo" not in outside_code and HOSTILE.split("[")[0] in rendered


def test_two_pushes_create_then_update_one_comment(tmp_path: Path, github: PullsGitHub) -> None:
    r = Rehearsal(tmp_path, github)
    github.add_comment(42, "Nice work!", "maintainer")
    github.add_comment(42, "Please rebase.", "maintainer")
    page_url = naming.pull_request_url(PAGES_URL, 42)
    chart = naming.benchmark_page("suites/mlx/test_gemm", HOSTILE)

    head1 = commit(r.repo, "Fuse attention")
    r.point(head1)
    artifact, gate = r.pr_job(1, head1, latency=1.5e-3)  # 50% slower: a regression
    first_artifact = artifact
    assert gate == 1
    log, kept = r.keep_job(artifact, head1)
    assert kept and f"kept 1 results file(s) of #42 at {head1[:12]}" in log
    assert [p.name for p in (r.data / "pulls" / "42").iterdir()] == [f"{head1}-run-1.json"]
    site = r.pages_job()
    github.fail_next("GET", 502)  # GitHub hiccups once: retried
    out = r.comment_job(artifact, head1)
    assert out.startswith("created comment ")
    (mine,) = [c for c in github.comments if MARKER in c["body"]]
    assert "regression" in mine["body"].lower()
    assert_inert(mine["body"])
    first_id = mine["id"]
    # the comment links the pull request's page, and the published site has it, with the
    # comment's verdicts; main's trend chart has main's runs only
    assert LINK.findall(mine["body"]) == [page_url]
    page = site / page_url.removeprefix(PAGES_URL)
    assert page.is_file() and "Pull request #42" in page.read_text()
    # each change in the comment links its own row on that page
    anchors = re.findall(re.escape(page_url) + r"#(c-[0-9a-f]{12})\)", mine["body"])
    assert anchors and all(f'<tr id="{a}"' in page.read_text() for a in anchors)
    assert verdicts_on_page(page.read_text()) == verdicts_in_comment(mine["body"])
    assert ("latency", "regression") in verdicts_on_page(page.read_text())
    assert {c[0] for c in page_data(site, chart)["commits"]} == {r.base}

    head2 = commit(r.repo, "Fix the regression")
    r.point(head2)
    artifact, gate = r.pr_job(2, head2, latency=1e-3)
    assert gate == 0
    assert r.keep_job(artifact, head2)[1]
    site = r.pages_job()
    out = r.comment_job(artifact, head2)
    assert out.startswith(f"updated comment {first_id} ")
    bodies = [c for c in github.comments if MARKER in c["body"]]
    assert [c["id"] for c in bodies] == [first_id] and len(github.comments) == 3
    assert "regression" not in bodies[0]["body"].split("|", 1)[0].lower()
    assert [m for m, _, _ in github.requests].count("POST") == 1
    assert [m for m, _, _ in github.requests].count("PATCH") == 1
    assert all(authed for _, _, authed in github.requests)
    # the page follows the newest push and, like the comment, compares it with main (the
    # merge-base), not with the first push's run on its parent
    assert LINK.findall(bodies[0]["body"]) == [page_url]
    html = (site / page_url.removeprefix(PAGES_URL)).read_text()
    assert head2[:10] in html and head1[:10] not in html and r.base[:10] in html
    assert verdicts_on_page(html) == verdicts_in_comment(bodies[0]["body"]) != []
    assert {c[0] for c in page_data(site, chart)["commits"]} == {r.base}

    # the first push's artifact, late: neither kept nor posted over the newer comment
    kept_files = sorted((r.data / "pulls" / "42").iterdir())
    log, kept = r.keep_job(first_artifact, head1)
    assert not kept and "has moved on" in log
    assert sorted((r.data / "pulls" / "42").iterdir()) == kept_files
    out = r.comment_job(first_artifact, head1)
    assert [m for m, _, _ in github.requests].count("PATCH") == 1

    github.fail_next("GET", 403)  # the token lacks permission: no retry, one clear line
    err = r.comment_job(artifact, head2, code=2)
    assert err.startswith("perfci: error: GET /repos/octo/ml/pulls/42 answered 403")
    assert "Resource not accessible by integration" in err and err.count("\n") == 1

    assert all(TOKEN not in text for text in r.outputs)


PLANTED = "All clear, merge it @octo/maintainers [details](https://evil.example)"


def test_a_forks_results_need_perf_ok_given_for_their_head(
    tmp_path: Path, github: PullsGitHub
) -> None:
    """A fork's PR whose perf-pr.yml was edited (the gate gone, run on a hosted runner):
    its artifact holds valid-looking results and a report.md of its own. Nothing is kept
    or posted until a maintainer's perf-ok is on the pull request for that head; what is
    posted then is perfci's comparison of the results, never that report."""
    r = Rehearsal(tmp_path, github)
    github.forks[42] = "mallory/ml"

    def refused(artifact: Path, head: str) -> str:
        log, kept = r.keep_job(artifact, head, code=REFUSED)
        assert not kept and not (r.data / "pulls").exists()
        err = r.comment_job(artifact, head, code=REFUSED)
        assert err.count("\n") == 1 and err.startswith("perfci: refused: pull request #42 ")
        assert err in log  # the keep job refused for the same reason
        assert not [c for c in github.comments if MARKER in c["body"]]
        return err

    head1 = commit(r.repo, "Fuse attention")
    r.point(head1)
    first, _ = r.pr_job(1, head1, latency=1.5e-3)
    (first / "report.md").write_text(PLANTED)
    assert "from mallory/ml has no perf-ok label" in refused(first, head1)

    github.label(42)  # read and labelled at head1; then the fork pushes again
    head2 = commit(r.repo, "More changes")
    r.point(head2)
    second, _ = r.pr_job(2, head2, latency=1.5e-3)
    (second / "report.md").write_text(PLANTED)
    assert f"given for an earlier head, not {head2[:12]}" in refused(second, head2)
    # the first push's artifact, now that the head has moved on
    assert f"its head is now {head2[:12]}, not {head1[:12]}" in refused(first, head1)
    assert not any(m in ("POST", "PATCH") for m, _, _ in github.requests)

    github.unlabel(42)  # the maintainer reads the new commits and labels again
    github.label(42)
    log, kept = r.keep_job(second, head2)
    assert kept and f"pull request #42 from mallory/ml: perf-ok given for {head2[:12]}" in log
    assert [p.name for p in (r.data / "pulls" / "42").iterdir()] == [f"{head2}-run-2.json"]
    out = r.comment_job(second, head2)
    assert out.startswith("created comment ")
    (mine,) = [c for c in github.comments if MARKER in c["body"]]
    assert "evil.example" not in mine["body"] and "maintainers" not in mine["body"]
    # perfci's own comparison of the checked results against main's kept runs
    assert ("latency", "regression") in verdicts_in_comment(mine["body"])
    runs = len(list((r.data / "runs").iterdir()))
    assert f"Base: {runs} runs" in mine["body"] and f"commit {r.base[:12]}" in mine["body"]


def test_without_a_deploy_the_comment_has_no_link(tmp_path: Path, github: PullsGitHub) -> None:
    r = Rehearsal(tmp_path, github)
    head = commit(r.repo, "Fuse attention")
    r.point(head)
    artifact, _ = r.pr_job(1, head, latency=1e-3)
    assert r.comment_job(artifact, head, page_url="").startswith("created comment ")
    (mine,) = [c for c in github.comments if MARKER in c["body"]]
    assert PAGE_LINK not in mine["body"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"trigger": "push"}, "trigger 'push'"),  # would join main's history
        ({"pr_number": 41}, "pull request 41"),  # would show on another PR's page
        ({"pr_number": None}, "pull request None"),
    ],
)
def test_keep_refuses_results_that_are_not_the_pull_requests_run(
    tmp_path: Path, github: PullsGitHub, change: dict[str, object], problem: str
) -> None:
    r = Rehearsal(tmp_path, github)
    head = commit(r.repo, "Fuse attention")
    r.point(head)
    artifact, _ = r.pr_job(1, head, latency=1e-3)
    (path,) = artifact.glob("*.json")
    doc = json.loads(path.read_text())
    doc["run"].update(change)
    path.write_text(json.dumps(doc))
    log, kept = r.keep_job(artifact, head, code=2)
    assert not kept and "not a run of pull request #42" in log and problem in log
    assert log.count("\n") == 1 and not (r.data / "pulls").exists()
    assert github.requests == []  # refused before asking GitHub anything


def test_pull_request_runs_stay_out_of_mains_trends_and_alerts(tmp_path: Path) -> None:
    """The site perf-pages builds holds main's runs and a pull request's, whose branch is
    called main (a fork's) and whose eight pushes are 50% slower (enough for a change point,
    were they on main): main's charts, alerts and change points see none of them; the PR's
    page does."""
    data = tmp_path / "perfci-data"
    (data / "runs").mkdir(parents=True)
    mains: list[str] = []
    for i in range(16):
        result = run(
            commit=sha(f"main-{i}"),
            parents=tuple(mains[-1:]),
            benchmarks=(benchmark(seed=i),),
            started_at=f"2026-10-{1 + i:02d}T10:00:00+00:00",
        )
        write(result, data / "runs" / f"{sha(f'main-{i}')}-run.json")
        mains.append(sha(f"main-{i}"))
    (data / "pulls" / "9").mkdir(parents=True)
    parent = mains[-1]
    heads = []
    for push in range(8):
        head = sha(f"pr-{push}")
        result = run(
            commit=head,
            parents=(parent,),
            benchmarks=(benchmark(latency=1.5e-3, seed=50 + push),),
            started_at=f"2026-10-{20 + push}T10:00:00+00:00",
        )
        record = dataclasses.replace(result.run, trigger="pull_request", pr_number=9)
        write(dataclasses.replace(result, run=record), data / "pulls" / "9" / f"{head}-run.json")
        parent = head
        heads.append(head)
    runner = tmp_path / "runner"
    runner.mkdir()
    site, log = build_pages(data, runner)
    assert "branch main: 0 alert(s)" in log
    with closing(sqlite3.connect(runner / "site.db")) as conn:
        assert conn.execute("SELECT count(*) FROM alerts").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (len(mains) + 8,)
    chart = page_data(site, naming.benchmark_page("suites/mlx/test_gemm", "test_gemm"))
    assert [c[0] for c in chart["commits"]] == mains
    assert "No open alerts." in (site / "index.html").read_text()
    html = (site / naming.pull_request_page(9)).read_text()
    assert ("latency", "regression") in verdicts_on_page(html)
    assert mains[-1][:10] in html and heads[-1][:10] in html


def test_dry_run_prints_the_body_without_token_or_network(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("| a | b |\n")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    done = perfci("comment", str(report), "--dry-run", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{MARKER}\n| a | b |\n" and TOKEN not in done.stderr
    linked = perfci(
        "comment", str(report), "--dry-run", "--pr", "7", "--dashboard-url",
        "https://acme.example/perf", cwd=tmp_path, env={**env, "PERFCI_DASHBOARD_URL": ""},
    )  # fmt: skip
    assert linked.returncode == 0, linked.stderr
    assert LINK.findall(linked.stdout) == ["https://acme.example/perf/pr/7.html"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--pr", "1e3"],
            {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"},
            "not a pull-request number",
        ),
        (["--pr", "3"], {"GITHUB_REPOSITORY": "o/r"}, "$GITHUB_TOKEN is not set"),
        (["--pr", "3"], {"GITHUB_TOKEN": "x"}, "no repository"),
        ([], {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"}, "pass --pr N"),
        *(
            (
                ["--pr", "3", "--dashboard-url", url],
                {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"},
                "--dashboard-url must be the dashboard's http(s) address",
            )
            for url in (
                "",
                "octo.github.io/ml",
                "javascript:alert(1)",
                "https://",
                "https://octo.github.io/ml/?page=1",
                "https://octo.github.io/m l/",
                "https://octo.github.io/ml)[x](https://evil.example",
            )
        ),
        (
            ["--pr", "3"],
            {"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r", "PERFCI_DASHBOARD_URL": "ftp://x"},
            "$PERFCI_DASHBOARD_URL must be the dashboard's http(s) address",
        ),
        (
            ["--dry-run", "--dashboard-url", "https://octo.github.io/ml/"],
            {},
            "no pull-request number to link",
        ),
    ],
)
def test_comment_bad_input_is_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    report = tmp_path / "report.md"
    report.write_text("x")
    done = perfci(
        "comment", str(report), *args, cwd=tmp_path, env={"PATH": os.environ["PATH"], **env}
    )
    assert done.returncode == 2 and message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pr", "x1", "--head-sha", "a" * 40], "not a pull-request number"),
        (["--pr", "3", "--head-sha", "abc1234"], "--head-sha must be the full 40-character sha"),
        (["--pr", "3", "--head-sha", "z" * 40], "is not a git sha"),
    ],
)
def test_keep_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"}
    (tmp_path / "artifact").mkdir()
    done = perfci(
        "keep", str(tmp_path / "artifact"), *args, "--into", str(tmp_path), cwd=tmp_path, env=env
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["artifact"]


def test_results_dry_run_renders_from_the_store_without_the_api(
    tmp_path: Path, github: PullsGitHub
) -> None:
    r = Rehearsal(tmp_path, github)
    head = commit(r.repo, "Fuse attention")
    artifact, _ = r.pr_job(1, head, latency=1.5e-3)
    (artifact / "report.md").write_text(PLANTED)
    scratch = f"sqlite:///{tmp_path / 'scratch.db'}"
    env = {"PATH": os.environ["PATH"], "PERFCI_DB": scratch}
    r.check(perfci("rebuild", "--from", str(r.data / "runs"), cwd=tmp_path, env=env))
    done = perfci(
        "comment", "--results", str(artifact), "--pr", "42", "--head-sha", head,
        "--base", r.base, "--dry-run", cwd=tmp_path, env=env,
    )  # fmt: skip
    body = r.check(done)
    assert body.startswith(MARKER) and "evil.example" not in body
    assert ("latency", "regression") in verdicts_in_comment(body)
    assert github.requests == []  # no token, no network


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pr", "42"], "--results needs --head-sha SHA"),
        (["--pr", "42", "--head-sha", "abc1234"], "--head-sha must be the full 40-character"),
        (["--pr", "42", "--head-sha", "HEAD", "--dry-run"], "give the merge-base as --base"),
        (["--pr", "42", "--head-sha", "HEAD", "--base", "x"], "--base 'x' is not a git sha"),
        (["--pr", "42", "--head-sha", "HEAD", "report.md"], "give BODY or --results DIR, not both"),
        (["--pr", "41", "--head-sha", "HEAD"], "not a run of pull request #41"),
        (["--pr", "42", "--head-sha", "a" * 40], "not a run of pull request #42 at aaaaaaaaaaaa"),
    ],
)
def test_comment_from_results_bad_input_is_one_line(
    tmp_path: Path, github: PullsGitHub, args: list[str], message: str
) -> None:
    head = sha("fuse-attention")
    github.pulls[42] = head
    artifact = tmp_path / "perfci-pr"
    artifact.mkdir()
    measured = run(commit=head, benchmarks=(benchmark(HOSTILE),))
    record = dataclasses.replace(measured.run, trigger="pull_request", pr_number=42)
    write(dataclasses.replace(measured, run=record), artifact / "run-1.json")
    (artifact / "report.md").write_text(PLANTED)
    scratch = tmp_path / "scratch.db"
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_REPOSITORY": "octo/ml",
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": TOKEN,
        "PERFCI_DB": f"sqlite:///{scratch}",
    }
    args = [head if a == "HEAD" else a for a in args]
    done = perfci("comment", "--results", str(artifact), *args, cwd=artifact, env=env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert github.requests == [] and not scratch.exists()  # nothing asked, nothing stored


def test_body_or_results_is_needed(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "o/r"}
    for args, message in (
        (["--pr", "3"], "give BODY (a Markdown file) or --results DIR"),
        (["body.md", "--pr", "3", "--base", "a" * 40], "--base goes with --results DIR"),
    ):
        done = perfci("comment", *args, cwd=tmp_path, env=env)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1
