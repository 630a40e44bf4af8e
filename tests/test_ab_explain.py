"""`perfci ab` explains its regressions, through its entry point on a real git repository
measured and profiled in real pytest processes (torch on the CPU): a planted extra matmul
is a regression whose why section names `aten::mm` and whose JSON carries the full diff;
an unchanged pair profiles nothing; the trusted comment renders the why section again
from the kept folder and refuses a tampered diff file; a budget that runs out leaves
the rest unexplained, and says so."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_ab_command import git, perfci
from test_cli import perfci as perfci_here

from perfci.ab.diff_file import FAILED, TIME
from perfci.ab.explained import explain_regressions
from perfci.ab.manifest import MANIFEST, read_ab_results
from perfci.ab.report import ab_markdown
from perfci.ab.worktree import sides
from perfci.compare import Comparison
from perfci.config import Config
from perfci.github.artifact import read_pull_results
from perfci.results import ResultsError

pytest.importorskip("torch", reason="the planted regression is a torch workload")

SUITE = """import torch

from work import matmul_step

torch.set_num_threads(1)  # two sides' processes never share a core's worth of threads


def test_matmul(perf):
    perf.use("torch", device="cpu")
    a, b = torch.randn(192, 192), torch.randn(192, 192)
    perf(lambda: matmul_step(a, b))
"""
WORK = """def matmul_step(a, b):
    return {body}
"""
HOSTILE = "<img src=x onerror=alert(1)> @octocat"


def planted_matmul_repo(repo: Path) -> Path:
    """Three commits: the workload, a README-only change, then one more matmul."""
    (repo / "suites").mkdir(parents=True)
    (repo / "suites" / "test_work.py").write_text(SUITE)
    (repo / "work.py").write_text(WORK.format(body="a @ b"))
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:hypothesispytest\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "A matmul and its benchmark")
    (repo / "README.md").write_text("# work\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "README")
    (repo / "work.py").write_text(WORK.format(body="(a @ b) @ b  # one more matmul"))
    git(repo, "commit", "-q", "-am", "An extra matmul")
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planted_matmul_repo(tmp_path_factory.mktemp("ab-explain") / "repo")


@pytest.fixture(scope="module")
def explained(repo: Path) -> dict[str, Any]:
    kept = repo.parent / "kept"
    done = perfci(repo, "ab", "--base", "HEAD~1", "--format", "json", "--results", str(kept),
                  "--db", f"sqlite:///{repo.parent / 'perfci.db'}", "--max-rounds", "6",
                  "--explain-calls", "6")  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    doc["stderr"], doc["kept"] = done.stderr, kept
    return doc


def regressions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in doc["comparisons"] if c["verdict"] == "regression"]


def test_a_regression_carries_its_full_diff_in_the_json(explained: dict[str, Any]) -> None:
    found = regressions(explained)
    latency = [c for c in found if c["metric"] == "latency"]
    assert latency and latency[0]["benchmark"] == "suites/test_work::test_matmul"
    for c in found:
        diff = c["explanation"]
        assert diff["nodeid"] == "suites/test_work.py::test_matmul"
        torch_ops = next(s for s in diff["sections"] if s["tool"] == "torch")
        mm = torch_ops["changes"][0]
        assert mm["name"] == "aten::mm" and (mm["calls_base"], mm["calls_head"]) == (1, 2)
    assert all(c["explanation"] is None for c in explained["comparisons"] if c not in found)
    explain = explained["ab"]["explain"]
    assert explain["profiled"] == ["suites/test_work.py::test_matmul"]
    assert explain["unexplained"] == [] and 0 < explain["elapsed_s"] <= explain["budget_s"]
    assert "suites/test_work.py::test_matmul: profiled head (2/4 processes)" in explained["stderr"]


def test_the_kept_folder_names_the_diff_and_the_traces(explained: dict[str, Any]) -> None:
    folder = read_ab_results(explained["kept"])
    entry = folder.manifest.explain
    assert entry is not None and folder.explained is not None
    (test,) = entry.tests
    assert test.diff.startswith("explain/") and test.diff.endswith(".json")
    traces = [t for t in test.traces if t.endswith("torch-trace.json")]
    assert len(traces) == 4  # two processes a side
    trace = json.loads((explained["kept"] / traces[0]).read_text())
    assert any(ev.get("name", "").startswith("aten::") for ev in trace["traceEvents"])
    # profiling changed no verdict: judged again from the files, the verdicts are the same
    again = {(c.benchmark, c.metric): c.verdict for c in folder.outcome(Config()).comparisons}
    assert again == {(c["benchmark"], c["metric"]): c["verdict"] for c in explained["comparisons"]}


def test_the_markdown_has_a_why_section_naming_the_operator(explained: dict[str, Any]) -> None:
    folder = read_ab_results(explained["kept"])
    text = ab_markdown(folder.outcome(Config()), explained=folder.explained)
    why = text.index("<details><summary>Why suites/test\\_work::")
    assert text.index("**Regressions**") < why < text.index("process-wide memory")
    assert "| `aten::mm` | \\+" in text and "calls 1 → 2" in text
    assert "Why they regressed: 1 benchmark test(s) profiled on base and head in " in text


def trusted(folder: Path, repo: Path) -> Any:
    env = {"PATH": os.environ["PATH"], "PERFCI_DB": f"sqlite:///{folder.parent / 'scratch.db'}"}
    return perfci_here(
        "comment", "--results", str(folder), "--pr", "7", "--head-sha",
        git(repo, "rev-parse", "HEAD"), "--base", git(repo, "rev-parse", "HEAD~1"),
        "--dry-run", cwd=folder.parent, env=env,
    )  # fmt: skip


def copy_of(explained: dict[str, Any], tmp_path: Path) -> Path:
    folder = tmp_path / "artifact"
    shutil.copytree(explained["kept"], folder)
    return folder


def diff_doc(folder: Path) -> tuple[Path, dict[str, Any]]:
    (test,) = json.loads((folder / MANIFEST).read_text())["explain"]["tests"]
    path = folder / test["diff"]
    return path, json.loads(path.read_text())


def test_the_trusted_comment_renders_the_why_section_from_the_kept_folder(
    explained: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    done = trusted(copy_of(explained, tmp_path), repo)
    assert done.returncode == 0, done.stderr
    assert "<details><summary>Why suites/test\\_work::" in done.stdout
    assert "| `aten::mm` |" in done.stdout


def test_a_hostile_name_in_a_kept_diff_is_rendered_as_text(
    explained: dict[str, Any], repo: Path, tmp_path: Path
) -> None:
    folder = copy_of(explained, tmp_path)
    path, doc = diff_doc(folder)
    torch_ops = next(s for s in doc["sections"] if s["tool"] == "torch")
    torch_ops["changes"][0]["name"] = HOSTILE
    doc["notes"] = [HOSTILE]
    path.write_text(json.dumps(doc))
    done = trusted(folder, repo)
    assert done.returncode == 0, done.stderr
    assert "<img" not in done.stdout.replace(f"`{HOSTILE}`", "")
    assert "@octocat" not in done.stdout.replace(f"`{HOSTILE}`", "")


TAMPERED = [
    ("a status of its own", lambda d: d["sections"][0]["changes"][0].update(status="fixed"),
     "status: must be one of"),
    ("a key of its own", lambda d: d.update(verdict="unchanged"), "unknown key 'verdict'"),
    ("another test", lambda d: d.update(nodeid="suites/test_work.py::test_other"),
     "the diff of another test"),
    ("a time that is not a number",
     lambda d: d["sections"][0]["changes"][0].update(delta_s="1 ms"), "must be a number"),
    ("within noise against its figures", lambda d: d.update(within_noise=True),
     "disagrees with its sections"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED]
)
def test_a_tampered_diff_file_is_refused_with_one_line(
    explained: dict[str, Any], repo: Path, tmp_path: Path, change: Any, message: str
) -> None:
    folder = copy_of(explained, tmp_path)
    path, doc = diff_doc(folder)
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError) as caught:
        read_pull_results(folder, 7, git(repo, "rev-parse", "HEAD"))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    if message == "disagrees with its sections":  # one through the command: exit 2, no body
        done = trusted(folder, repo)
        assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1


MANIFEST_TAMPERED = [
    ("a path out of the folder", lambda e, f: e["tests"][0].update(diff="explain/../../x.json"),
     "is not a file's path under explain/"),
    ("an absolute path", lambda e, f: e["tests"][0]["traces"].append("/etc/passwd"),
     "is not a file's path under explain/"),
    ("a reason of its own",
     lambda e, f: e["unexplained"].append({"nodeid": "x", "reason": "approved"}),
     "reason: must be one of"),
    ("a linked trace", lambda e, f: _link(f / e["tests"][0]["traces"][0]), "not a plain file"),
    ("a missing diff", lambda e, f: (f / e["tests"][0]["diff"]).unlink(), "cannot read"),
]  # fmt: skip


def _link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/etc/hostname")


@pytest.mark.parametrize(
    ("change", "message"), [t[1:] for t in MANIFEST_TAMPERED], ids=[t[0] for t in MANIFEST_TAMPERED]
)
def test_a_tampered_explain_entry_is_refused_with_one_line(
    explained: dict[str, Any], repo: Path, tmp_path: Path, change: Any, message: str
) -> None:
    folder = copy_of(explained, tmp_path)
    doc = json.loads((folder / MANIFEST).read_text())
    change(doc["explain"], folder)
    (folder / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(ResultsError) as caught:
        read_pull_results(folder, 7, git(repo, "rev-parse", "HEAD"))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_unchanged_pair_profiles_nothing_and_has_no_why_section(repo: Path) -> None:
    kept = repo.parent / "unchanged"
    done = perfci(repo, "ab", "--base", "HEAD~2", "--head", "HEAD~1", "--format", "markdown",
                  "--results", str(kept), "--db", f"sqlite:///{repo.parent / 'same.db'}",
                  "--max-rounds", "3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "regression" not in done.stdout.splitlines()[0]
    assert "Why" not in done.stdout and "profiled" not in done.stderr
    assert not (kept / "explain").exists()
    assert "explain" not in json.loads((kept / MANIFEST).read_text())


def _regression(name: str) -> Comparison:
    return Comparison(
        f"suites/test_work::{name}", {"backend": "torch", "device": "cpu"}, "latency", "s",
        "lower", "regression", 2.0, (1.8, 2.2), None, 4, 4,
    )  # fmt: skip


def test_a_budget_that_runs_out_leaves_the_rest_unexplained(repo: Path, tmp_path: Path) -> None:
    """Profiling is cut at the budget: the first test's process runs past it, the next is
    not started; a test that profiles nothing is said to have failed. No half a set of
    profiles is left behind."""
    lines: list[str] = []
    with sides(repo, "HEAD~1", "HEAD") as (base, head):
        two = [_regression("test_matmul"), _regression("test_gone")]
        cut = explain_regressions(base, head, two, tmp_path, 1.0, 6, lines.append)
        gone = [_regression("test_gone")]
        failed = explain_regressions(base, head, gone, tmp_path / "f", 120.0, 6, lines.append)
    assert cut is not None and cut.explanations == () and cut.entry.tests == ()
    assert [(u.nodeid, u.reason) for u in cut.entry.unexplained] == [
        ("suites/test_work.py::test_matmul", TIME), ("suites/test_work.py::test_gone", TIME)
    ]  # fmt: skip
    assert failed is not None and [u.reason for u in failed.entry.unexplained] == [FAILED]
    assert any("not explained" in line for line in lines)
    assert not list(tmp_path.rglob("*.json"))
