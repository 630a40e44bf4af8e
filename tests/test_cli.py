"""The `perfci` command through its installed entry point."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import run, sha, write

PERFCI = shutil.which("perfci", path=str(Path(sys.executable).parent)) or "perfci"


def perfci(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env, check=False
    )


def db_snapshot(db: Path) -> str:
    """Everything the SQLite file holds, as text: equal snapshots mean nothing changed."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "perfci.db"
    result = perfci(
        "ingest",
        "--db",
        f"sqlite:///{path}",
        str(write(run(), tmp_path / "first.json")),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return path


def test_every_command_has_help(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for command in (
        "run",
        "ab",
        "ingest",
        "compare",
        "detect",
        "runs",
        "history",
        "dashboard",
        "comment",
        "keep",
        "summary",
        "context",
        "rebuild",
        "db",
        "doctor",
    ):
        result = perfci(command, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: perfci" in result.stdout
        assert f"perfci {command}" in readme, f"README does not show `perfci {command}`"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["runs", "--show", "abc"],
            "perfci runs: error: argument --show: invalid int value: 'abc'",
        ),
        (["compare", "--head"], "perfci compare: error: argument --head: expected one argument"),
        (["nosuch"], "perfci: error: argument COMMAND: invalid choice: 'nosuch'"),
        ([], "perfci: error: the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = perfci(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.endswith("--help)\n")


def test_ingest_stores_and_lists_runs(tmp_path: Path, db: Path) -> None:
    url = f"sqlite:///{db}"
    second = write(
        run(commit=sha("second"), subject="Make <it> faster | now"), tmp_path / "second.json"
    )
    result = perfci("ingest", str(second), "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stored as run 2 (2 measurements)" in result.stdout

    again = perfci("ingest", str(second), "--db", url, cwd=tmp_path)
    assert again.returncode == 0 and "already stored as run 2" in again.stdout

    listing = perfci("runs", "--db", url, cwd=tmp_path)
    assert listing.returncode == 0
    assert sha("second")[:12] in listing.stdout and "Make <it> faster" in listing.stdout
    shown = perfci("runs", "--show", "2", "--db", url, cwd=tmp_path)
    assert "suites/mlx/test_gemm::test_gemm" in shown.stdout
    hist = perfci("history", "test_gemm", "--db", url, cwd=tmp_path)
    assert hist.returncode == 0 and len(hist.stdout.splitlines()) == 4  # header, rule, 2 runs


def test_perfci_db_environment_variable_names_the_store(tmp_path: Path) -> None:
    path = tmp_path / "env.db"
    env = {**__import__("os").environ, "PERFCI_DB": f"sqlite:///{path}"}
    result = perfci("ingest", str(write(run(), tmp_path / "r.json")), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert path.exists()


TRUNCATED = '{"format": "perfci-run", "format_version": 1, "run": {"run_id": "x", "star'
NAMELESS_MACHINE = json.dumps({**json.loads(run().to_json()), "machine": {"fingerprint": "x"}})


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (TRUNCATED, "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "neither a perfci results file nor pytest-benchmark JSON"),
        ('{"format": "perfci-run", "format_version": 99}', "format_version 99 is not supported"),
        ('{"benchmarks": [], "machine_info": {}}', "datetime must be a string"),
        (NAMELESS_MACHINE, "machine.name must be a string"),
    ],
)
def test_bad_files_exit_2_with_one_line_and_store_nothing(
    tmp_path: Path, db: Path, content: str, problem: str
) -> None:
    before = db_snapshot(db)
    good = write(run(commit=sha("good")), tmp_path / "good.json")
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = perfci("ingest", str(good), str(bad), "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert str(bad) in result.stderr and problem in result.stderr
    assert db_snapshot(db) == before  # the good file in the same call was not stored either


def test_a_missing_file_and_a_bad_sha_are_usage_errors(tmp_path: Path, db: Path) -> None:
    missing = perfci("ingest", str(tmp_path / "nope.json"), "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    good = write(run(), tmp_path / "g.json")
    bad_sha = perfci(
        "ingest", str(good), "--commit", "not-a-sha", "--db", f"sqlite:///{db}", cwd=tmp_path
    )
    assert bad_sha.returncode == 2 and bad_sha.stderr == (
        "perfci: error: --commit 'not-a-sha' is not a git sha, nor a commit git knows here\n"
    )


def test_a_run_without_a_commit_needs_commit_flag(tmp_path: Path, db: Path) -> None:
    doc = json.loads(run(run_id="no-commit").to_json())
    doc["commit"] = None
    path = tmp_path / "nocommit.json"
    path.write_text(json.dumps(doc))
    url = f"sqlite:///{db}"
    refused = perfci("ingest", str(path), "--db", url, cwd=tmp_path)
    assert refused.returncode == 2 and "no commit recorded; pass --commit REF" in refused.stderr
    commit = sha("flag")
    ok = perfci(
        "ingest",
        str(path),
        "--commit",
        commit,
        "--parent",
        sha("p"),
        "--branch",
        "feature",
        "--machine",
        "mini-9",
        "--db",
        url,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    listing = perfci("runs", "--db", url, cwd=tmp_path).stdout
    assert commit[:12] in listing and "feature" in listing and "mini-9" in listing


@pytest.mark.parametrize(
    "command", [["runs"], ["runs", "--show", "1"], ["history", "test_gemm"], ["--help"]]
)
def test_a_reader_that_has_gone_ends_the_command_quietly(
    tmp_path: Path, db: Path, command: list[str]
) -> None:
    """`perfci runs | head -1`: the pipe's reader is gone before perfci writes; no
    BrokenPipeError traceback, and the status of a process ended by SIGPIPE."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone
    try:
        done = subprocess.run(
            [PERFCI, *command, *([] if command == ["--help"] else ["--db", f"sqlite:///{db}"])],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == (0 if command == ["--help"] else 141)  # help: argparse exits 0


def test_db_current_and_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "empty database" in perfci("db", "current", "--db", url, cwd=tmp_path).stdout
    upgraded = perfci("db", "upgrade", "--db", url, cwd=tmp_path)
    assert upgraded.returncode == 0 and "upgraded from empty to" in upgraded.stdout
    assert "(head)" in perfci("db", "current", "--db", url, cwd=tmp_path).stdout
    assert "already at" in perfci("db", "upgrade", "--db", url, cwd=tmp_path).stdout


@pytest.mark.parametrize("action", ["current", "upgrade"])
def test_db_on_a_store_that_cannot_be_opened_is_one_line(tmp_path: Path, action: str) -> None:
    result = perfci("db", action, "--db", f"sqlite:///{tmp_path}", cwd=tmp_path)  # a folder
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"perfci: error: cannot open the store at {tmp_path}: unable to open database file\n"
    )


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = perfci("runs", "--db", "nosuchdb://x", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.startswith("perfci: error: cannot use database URL")
        and result.stderr.count("\n") == 1
    )


ORDINARY_SUITE = """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def test_fib(benchmark):
    assert benchmark(fib, 12) == 144


class TestGroup:
    def test_sorted(self, benchmark):
        benchmark(sorted, list(range(300, 0, -1)))
"""


@pytest.mark.parametrize("save_data", [True, False])
def test_pytest_benchmark_json_from_an_ordinary_suite_ingests(
    tmp_path: Path, save_data: bool
) -> None:
    (tmp_path / "test_ordinary.py").write_text(ORDINARY_SUITE)
    out = tmp_path / "pb.json"
    flags = ["--benchmark-save-data"] if save_data else []
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:perfci",
            "-p",
            "no:cacheprovider",
            "-q",
            "--benchmark-max-time=0.05",
            f"--benchmark-json={out}",
            *flags,
            "test_ordinary.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    url = f"sqlite:///{tmp_path / 'pb.db'}"
    result = perfci("ingest", str(out), "--commit", sha("pb"), "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stored as run 1 (2 measurements)" in result.stdout
    shown = perfci("runs", "--show", "1", "--db", url, cwd=tmp_path).stdout
    assert "test_ordinary::test_fib" in shown and "test_ordinary::TestGroup.test_sorted" in shown


HOSTILE = "test_`x`|<script>alert(1)</script>[a](javascript:evil) @octocat"


def test_compare_files_verdicts_markdown_and_exit_codes(tmp_path: Path) -> None:
    from factories import benchmark

    bases = [
        write(
            run(commit=sha("base"), benchmarks=(benchmark(seed=i), benchmark(HOSTILE, seed=i))),
            tmp_path / f"base{i}.json",
        )
        for i in range(6)
    ]
    head = write(
        run(
            commit=sha("head"),
            benchmarks=(benchmark(seed=9, latency=1.3e-3), benchmark(HOSTILE, seed=9)),
        ),
        tmp_path / "head.json",
    )
    files = [str(p) for p in (*bases, head)]
    text = perfci("compare", *files, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "regression" in text.stdout
    failing = perfci("compare", *files, "--fail-on-regression", "--format", "json", cwd=tmp_path)
    assert failing.returncode == 1
    doc = json.loads(failing.stdout)
    assert doc["format_version"] == 1
    latency = {(c["benchmark"].split("::")[1], c["metric"]): c for c in doc["comparisons"]}
    assert latency[("test_gemm", "latency")]["verdict"] == "regression"
    assert latency[("test_gemm", "latency")]["ci"][0] > 1.2
    assert latency[(HOSTILE, "latency")]["verdict"] in ("unchanged", "inconclusive")
    md = perfci("compare", *files, "--format", "markdown", cwd=tmp_path)
    assert md.returncode == 0
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders Markdown as GitHub does")
    html = cmarkgfm.github_flavored_markdown_to_html(md.stdout)  # GitHub's own renderer
    assert "<script" not in html and "href" not in html  # no page given: nothing links
    assert "@octocat" not in re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        heads = len(re.findall(r"<th\b", table))
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            assert len(re.findall(r"<td\b", row)) == heads  # no pipe leaked out of a name


def test_compare_refuses_other_hardware_and_bad_input(tmp_path: Path) -> None:
    from dataclasses import replace

    from factories import MACHINE

    a = write(run(), tmp_path / "a.json")
    b = write(run(machine=replace(MACHINE, chip="Apple M1")), tmp_path / "b.json")
    other = perfci("compare", str(a), str(b), cwd=tmp_path)
    assert other.returncode == 2 and "other hardware" in other.stderr
    assert other.stdout == "" and "Traceback" not in other.stderr
    one = perfci("compare", str(a), cwd=tmp_path)
    assert one.returncode == 2 and "at least two files" in one.stderr


def test_detect_series_files(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    values = 1 + 0.02 * rng.standard_normal(120)
    values[80:] *= 1.08
    good = tmp_path / "good.csv"
    good.write_text("commit,value\n" + "".join(f"c{i},{v}\n" for i, v in enumerate(values)))
    short = tmp_path / "short.csv"
    short.write_text("value\n1.0\n")
    result = perfci("detect", str(good), str(short), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    first, second = doc["series"]
    (change,) = first["change_points"]
    assert abs(change["index"] - 80) <= 1 and change["commit"] == f"c{change['index']}"
    assert (change["kind"], change["shape"], change["start"]) == ("regression", "step", None)
    assert second["status"] == "too short" and second["change_points"] == []
    higher = perfci("detect", str(good), "--direction", "higher", cwd=tmp_path)
    assert f"row {change['index']} (commit c{change['index']}): improvement" in higher.stdout
    drifting = tmp_path / "drifting.csv"
    ramp = (1 + 0.02 * rng.standard_normal(200)) * np.linspace(1, 1.1, 200)
    drifting.write_text("value\n" + "".join(f"{v}\n" for v in ramp))
    doc = json.loads(perfci("detect", str(drifting), "--format", "json", cwd=tmp_path).stdout)
    shapes = {(c["shape"], c["start"] is not None) for c in doc["series"][0]["change_points"]}
    assert ("drift", True) in shapes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("commit,val\na,1\n", "no `value` column"),
        ("value\n", "no values"),
        ("value\n1\nnan\n", "value 2 is not a finite number"),
        ("value\n1\ninf\n", "value 2 is not a finite number"),
        ("value\n1\nabc\n", "'abc' is not a number"),
    ],
)
def test_detect_bad_input_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(content)
    result = perfci("detect", str(path), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_rebuild_recreates_the_store_from_results_files(tmp_path: Path) -> None:
    data = tmp_path / "perfci-data" / "runs"
    data.mkdir(parents=True)
    for i in range(3):
        write(run(commit=sha(i), run_id=f"run-{i}"), data / f"{i}.json")
    url = f"sqlite:///{tmp_path / 'new' / 'perfci.db'}"
    first = perfci("rebuild", "--from", str(data.parent), "--db", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 runs stored, 0 already there, from 3 files" in first.stdout
    snapshot = db_snapshot(tmp_path / "new" / "perfci.db")
    again = perfci("rebuild", "--from", str(data.parent), "--db", url, cwd=tmp_path)
    assert "0 runs stored, 3 already there" in again.stdout
    assert db_snapshot(tmp_path / "new" / "perfci.db") == snapshot
    listed = perfci("runs", "--db", url, cwd=tmp_path)
    assert listed.stdout.count(sha(0)[:7]) + listed.stdout.count(sha(2)[:7]) >= 2

    (data / "bad.json").write_text("{")
    bad = perfci("rebuild", "--from", str(data), "--db", url, cwd=tmp_path)
    assert (
        bad.returncode == 0
        and bad.stderr.count("\n") == 1
        and "skipping" in bad.stderr
        and "bad.json" in bad.stderr
    ), bad.stderr
    empty = perfci("rebuild", "--from", str(tmp_path / "nowhere"), "--db", url, cwd=tmp_path)
    assert empty.returncode == 2 and "is not a folder" in empty.stderr


def test_summary_appends_to_the_step_summary(tmp_path: Path) -> None:
    report = write_text(tmp_path / "report.md", "| a |\n")
    summary = write_text(tmp_path / "summary.md", "# earlier step\n")
    env = {"PATH": str(Path(sys.executable).parent), "GITHUB_STEP_SUMMARY": str(summary)}
    done = perfci("summary", str(report), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert summary.read_text() == "# earlier step\n| a |\n"
    big = write_text(tmp_path / "big.md", "| row |\n" * 200_000)
    perfci("summary", str(big), "--report-url", "https://x.example/r", cwd=tmp_path, env=env)
    assert summary.stat().st_size < 1024 * 1024
    assert summary.read_text().endswith("see [the full report](https://x.example/r).\n")
    missing = perfci("summary", str(report), cwd=tmp_path, env={"PATH": env["PATH"]})
    assert missing.returncode == 2 and "GITHUB_STEP_SUMMARY is not set" in missing.stderr
    folder = perfci(
        "summary", str(report), cwd=tmp_path, env={**env, "GITHUB_STEP_SUMMARY": str(tmp_path)}
    )
    assert folder.returncode == 2
    assert (
        folder.stderr
        == f"perfci: error: cannot write the step summary {tmp_path}: Is a directory\n"
    )


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_dashboard_with_a_broken_config_says_so_and_writes_nothing(
    db: Path, tmp_path: Path
) -> None:
    (tmp_path / "perfci.toml").write_text('[[benchmark]]\nname = "x"\nmin_effect = "lots"\n')
    out = tmp_path / "site"
    result = perfci("dashboard", "--db", f"sqlite:///{db}", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "perfci.toml" in result.stderr
    assert not out.exists()
