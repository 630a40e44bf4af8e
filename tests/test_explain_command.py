"""`perfci explain` through its entry point, on a real git repository whose benchmark
tests are profiled in real pytest processes (torch on the CPU): a planted extra matmul
and a planted dtype change are explained by the operators they add, a workload that did
not change is reported as within noise, and bad input is one line with nothing kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_ab_command import git, perfci

pytest.importorskip("torch", reason="the planted regressions are torch workloads")

SUITE = """import torch

from work import dtype_step, matmul_step, steady_step

torch.set_num_threads(1)  # two sides' processes never share a core's worth of threads


# First in the file, so that its processes are the same on both sides up to its end: a
# test after the changed ones inherits what they left (allocator, caches), and a diff
# rightly sees that.
def test_steady(benchmark):
    a, b = torch.randn(96, 96), torch.randn(96, 96)
    benchmark(steady_step, a, b)


def test_matmul(perf):
    perf.use("torch", device="cpu")
    a, b = torch.randn(96, 96), torch.randn(96, 96)
    perf(lambda: matmul_step(a, b))


def test_dtype(benchmark):
    a, b = torch.randn(96, 96), torch.randn(96, 96)
    benchmark(dtype_step, a, b)
"""
BASE = """import torch


def matmul_step(a, b):
    return a @ b


def dtype_step(a, b):
    return a @ b


def steady_step(a, b):
    return torch.relu(a @ b)
"""
HEAD = """import torch


def matmul_step(a, b):
    return (a @ b) @ b  # one more matmul


def dtype_step(a, b):
    return a.to(torch.float64) @ b.to(torch.float64)  # two copies to float64


def steady_step(a, b):
    return torch.relu(a @ b)
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two commits: the workloads, then the planted matmul and dtype change."""
    repo = tmp_path_factory.mktemp("explain") / "repo"
    (repo / "suites").mkdir(parents=True)
    (repo / "suites" / "test_work.py").write_text(SUITE)
    (repo / "work.py").write_text(BASE)
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:hypothesispytest\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Workloads and their benchmarks")
    (repo / "work.py").write_text(HEAD)
    git(repo, "commit", "-q", "-am", "An extra matmul and a float64 detour")
    return repo


@pytest.fixture(scope="module")
def explained(repo: Path) -> dict[str, Any]:
    """One run over the whole suite file: every test is explained, 2 processes a side."""
    done = perfci(repo, "explain", "--base", "HEAD~1", "--head", "HEAD",
                  "-k", "suites/test_work.py", "--calls", "6", "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    doc["stderr"] = done.stderr
    return doc


def explanation(doc: dict[str, Any], test: str) -> dict[str, Any]:
    found = [e for e in doc["explanations"] if e["nodeid"].endswith(f"::{test}")]
    assert len(found) == 1, [e["nodeid"] for e in doc["explanations"]]
    return found[0]


def changes(e: dict[str, Any], tool: str) -> dict[str, dict[str, Any]]:
    section = next(s for s in e["sections"] if s["tool"] == tool)
    return {c["name"]: c for c in section["changes"]}


def test_an_extra_matmul_is_named_by_its_operator(explained: dict[str, Any]) -> None:
    e = explanation(explained, "test_matmul")
    assert e["backend"] == "torch" and e["device"] == "cpu"
    assert not e["within_noise"]
    mm = changes(e, "torch")["aten::mm"]
    assert mm["status"] == "changed" and mm["calls_changed"]
    assert (mm["calls_base"], mm["calls_head"], mm["calls_delta"]) == (1, 2, 1)
    assert mm["delta_s"] > 0 and mm["shapes"]
    # the largest change leads the section
    torch_section = next(s for s in e["sections"] if s["tool"] == "torch")
    assert torch_section["changes"][0]["name"] == "aten::mm"
    assert e["processes"] == {"base": 2, "head": 2}


def test_a_dtype_change_is_named_by_its_copies(explained: dict[str, Any]) -> None:
    e = explanation(explained, "test_dtype")
    ops = changes(e, "torch")
    for name in ("aten::to", "aten::_to_copy", "aten::copy_"):
        assert ops[name]["status"] == "new", name
        assert ops[name]["calls_base"] == 0 and ops[name]["calls_head"] == 2
    python = changes(e, "python")
    assert python["<method 'to' of 'torch._C.TensorBase' objects>"]["status"] == "new"
    # the float64 matmul may be slower too (the largest change then): a real change
    assert not e["within_noise"] and "change(s) beyond noise" in e["summary"]


def test_an_unchanged_workload_is_within_noise(explained: dict[str, Any]) -> None:
    e = explanation(explained, "test_steady")
    assert e["within_noise"], [
        (s["tool"], s["total"], [c for c in s["changes"] if c["status"] != "within_noise"])
        for s in e["sections"]
    ]
    assert e["summary"] == "every change is within the profiler's own run-to-run noise"
    for section in e["sections"]:
        assert section["within_noise"]
        assert {c["status"] for c in section["changes"]} <= {"within_noise"}
        assert section["segments"] == {"base": 4, "head": 4}  # 2 processes × 2 halves
        assert section["total"]["noise_s"] > 0


def test_raw_traces_are_kept_beside_the_results(repo: Path, explained: dict[str, Any]) -> None:
    folder = repo / explained["profiles"]
    assert folder.is_relative_to(repo / ".perfci" / "ab" / "explain")
    traces = sorted(folder.rglob("torch-trace.json"))
    assert len(traces) == 3 * 4  # three tests, four processes
    trace = json.loads(traces[0].read_text())
    assert any(ev.get("name", "").startswith("aten::") for ev in trace["traceEvents"])
    assert sorted(folder.rglob("python.prof"))
    # hidden from the developer's git status, worktrees gone
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 0
    assert "profiled head (2/4 processes)" in explained["stderr"]


def test_the_markdown_is_a_collapsed_why_per_test(repo: Path, explained: dict[str, Any]) -> None:
    from perfci.explain.diff import diff_profiles
    from perfci.explain.profile import read_profile
    from perfci.explain.render import explain_markdown

    folder = repo / explained["profiles"]
    node = explanation(explained, "test_matmul")["nodeid"]
    side = {
        name: [read_profile(f) for f in sorted(folder.glob(f"{name}-*/*.json"))]
        for name in ("base", "head")
    }
    base, head = ([p for p in side[n] if p.nodeid == node] for n in ("base", "head"))
    text = explain_markdown(diff_profiles(base, head), limit=2)
    assert text.startswith("<details><summary>Why ") and text.endswith("</details>")
    assert "| `aten::mm` | \\+" in text and "calls 1 → 2" in text
    from perfci.cli.explain import render
    from perfci.explain.run import Report, Request

    report = Report("b" * 40, "h" * 40, folder, Request(("x",), 6, 600.0), stopped="the budget")
    report.explanations = [diff_profiles(base, head)]
    report.elapsed_s = 42.0
    assert render(report, "markdown").endswith(
        "Profiling took 42 s of a 600 s budget (the budget)."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "nope", "-k", "suites/test_work.py"], "names no commit"),
        (["--base", "HEAD~1", "-k", "suites/test_missing.py::test_x"], "does not exist"),
        (["--base", "HEAD~1", "-k", "suites/test_work.py", "--budget", "soon"], "--budget"),
        (["--base", "HEAD~1", "-k", "suites/test_work.py", "--calls", "1"], "--calls"),
    ],
)
def test_bad_input_is_one_line_and_keeps_nothing(
    repo: Path, explained: dict[str, Any], args: list[str], message: str
) -> None:
    before = sorted((repo / ".perfci" / "ab" / "explain").iterdir())
    done = perfci(repo, "explain", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted((repo / ".perfci" / "ab" / "explain").iterdir()) == before
