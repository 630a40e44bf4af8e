"""Inputs that once broke a command (a traceback, a hang, a store that took what the other
database refuses), each through the CLI's entry point: one line on stderr and exit 2,
nothing stored, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import sha
from hostile import DELETE, cli, mutate, results_doc, store_snapshot

HUGE = 10**400
SAMPLES = ("benchmarks", 0, "metrics", 0, "samples")

# (id, path in the document, value, what the one line says)
BAD_FIELDS: list[tuple[str, tuple[str | int, ...], object, str]] = [
    ("year-1", ("run", "started_at"), "0001-01-01T00:00:00+01:00", "between 1970 and 9999"),
    ("year-9999", ("run", "finished_at"), "9999-12-31T23:59:59-01:00", "between 1970 and 9999"),
    ("author-year-1", ("commit", "author_time"), "0001-01-01T00:00:00+05:00", "1970 and 9999"),
    ("pr-past-2**63", ("run", "pr_number"), 2**63 + 1, "run.pr_number must be between"),
    ("pr-past-int32", ("run", "pr_number"), 2**40, "run.pr_number must be between"),
    ("load-average-huge", ("run", "load_average"), HUGE, "run.load_average must be a finite"),
    ("cpu-cores-past-int32", ("machine", "cpu_cores"), 2**64, "machine.cpu_cores must be"),
    ("memory-past-2**63", ("machine", "memory_bytes"), 2**64, "machine.memory_bytes must be"),
    ("memory-a-string", ("machine", "memory_bytes"), "64 GB", "machine.memory_bytes must be"),
    ("cpu-cores-a-word", ("machine", "cpu_cores"), "two", "machine.cpu_cores must be"),
    ("cpu-cores-a-list", ("machine", "cpu_cores"), [1], "machine.cpu_cores must be"),
    ("no-machine-name", ("machine", "name"), DELETE, "machine.name must be a string"),
    ("packages-a-string", ("environment", "packages"), "mlx", "environment.packages must be"),
    ("package-a-number", ("environment", "packages", "mlx"), 1, "environment.packages.mlx"),
    ("surrogate-subject", ("commit", "subject"), "fix \ud800", "lone surrogate"),
    ("surrogate-param", ("benchmarks", 0, "params", "dtype"), "\udcff", "lone surrogate"),
    ("nul-branch", ("commit", "branch"), "ma\0in", "commit.branch contains a NUL"),
    ("nul-reason", ("benchmarks", 0, "name"), "test\0x", "contains a NUL"),
    ("branch-past-255", ("commit", "branch"), "b" * 256, "longer than 255 characters"),
    ("name-past-512", ("benchmarks", 0, "name"), "n" * 513, "longer than 512 characters"),
    ("fingerprint-past-64", ("machine", "fingerprint"), "f" * 65, "longer than 64"),
    ("metric-past-64", ("benchmarks", 0, "metrics", 0, "name"), "m" * 65, "longer than 64"),
    ("nan-param", ("benchmarks", 0, "params", "batch"), float("nan"), "must be a finite"),
    ("huge-param", ("benchmarks", 0, "params", "batch"), HUGE, "must be between"),
    ("subnormal-samples", SAMPLES, [5e-324, 1e-320, 2e-310], "zero or of a magnitude"),
    ("huge-samples", SAMPLES, [1e300, 1e301], "zero or of a magnitude"),
]


@pytest.fixture
def seeded(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store holding one run; the working directory a bare folder (no git, no config)."""
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "seed.json"
    good.write_text(json.dumps(results_doc("seed")))
    done = cli("ingest", str(good), "--db", store_url)
    assert done.code == 0, done.err
    return store_url


def _refuses_ingest(url: str, tmp_path: Path, bad_text: str, problem: str) -> None:
    before = store_snapshot(url)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_doc("good")))
    bad = tmp_path / "bad.json"
    bad.write_text(bad_text)
    outcome = cli("ingest", str(good), str(bad), "--db", url)
    assert outcome.refused(), outcome
    assert str(bad) in outcome.err and problem in outcome.err, outcome.err
    assert store_snapshot(url) == before  # the good file of the same call neither


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [case[1:] for case in BAD_FIELDS],
    ids=[case[0] for case in BAD_FIELDS],
)
def test_a_field_the_store_cannot_keep_is_refused_and_nothing_stored(
    seeded: str, tmp_path: Path, path: tuple[str | int, ...], value: object, problem: str
) -> None:
    bad = json.dumps(mutate(results_doc("bad"), path, value))
    _refuses_ingest(seeded, tmp_path, bad, problem)


def test_json_nested_far_past_the_recursion_limit_is_one_line(seeded: str, tmp_path: Path) -> None:
    _refuses_ingest(seeded, tmp_path, "[" * 100_000 + "]" * 100_000, "nested too deeply")


def test_parameters_nested_within_the_decoder_but_past_the_bound_are_refused(
    seeded: str, tmp_path: Path
) -> None:
    doc = results_doc("deep-params")
    inner: dict[str, Any] = doc["benchmarks"][0]["params"]
    for _ in range(500):
        inner["a"] = {}
        inner = inner["a"]
    _refuses_ingest(seeded, tmp_path, json.dumps(doc), "nested more than")


def pytest_benchmark_doc(count: object) -> dict[str, Any]:
    """pytest-benchmark's JSON from another machine, its CPU count `count`."""
    return {
        "machine_info": {
            "node": "elsewhere",
            "processor": "arm",
            "machine": "arm64",
            "python_implementation": "CPython",
            "python_version": "3.12.0",
            "system": "Darwin",
            "release": "24.0.0",
            "cpu": {"brand_raw": "Apple M4", "count": count, "arch": "ARM_8"},
        },
        "commit_info": {"id": sha(f"pb-{count!r}"), "branch": "main"},
        "benchmarks": [
            {
                "fullname": "tests/test_x.py::test_a",
                "name": "test_a",
                "params": None,
                "param": None,
                "group": None,
                "extra_info": {},
                "stats": {"data": [1e-3, 1.1e-3, 1.2e-3], "rounds": 3},
            }
        ],
        "datetime": "2026-11-01T10:00:00+00:00",
        "version": "5.3.1",
    }


@pytest.mark.parametrize("count", ["two", [1], float("inf"), 8])
def test_pytest_benchmark_cpu_counts_of_any_type_store_or_refuse_cleanly(
    seeded: str, tmp_path: Path, count: object
) -> None:
    path = tmp_path / "pb.json"
    path.write_text(json.dumps(pytest_benchmark_doc(count)))  # inf is spelled Infinity
    outcome = cli("ingest", str(path), "--db", seeded)
    assert outcome.code == 0, outcome  # a count it cannot read is taken as one core
    assert "stored as run" in outcome.out


def test_pytest_benchmark_cpu_count_past_the_column_is_refused(seeded: str, tmp_path: Path) -> None:
    _refuses_ingest(
        seeded, tmp_path, json.dumps(pytest_benchmark_doc(2**70)), "machine.cpu_cores must be"
    )


def _perfci(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process: a hang fails the test at the timeout."""
    perfci = Path(sys.executable).parent / "perfci"
    return subprocess.run(
        [str(perfci), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_fifo_named_json_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    db = f"sqlite:///{tmp_path / 'p.db'}"
    result = _perfci("ingest", str(fifo), "--db", db, cwd=tmp_path)
    assert (
        result.returncode == 2 and result.stderr == f"perfci: error: {fifo}: not a regular file\n"
    )
    series = tmp_path / "series.csv"
    os.mkfifo(series)
    result = _perfci("detect", str(series), cwd=tmp_path)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_rebuild_skips_a_fifo_and_a_bad_file_and_stores_the_others(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "runs"
    data.mkdir()
    for i in range(3):
        (data / f"{i}.json").write_text(json.dumps(results_doc(f"kept-{i}")))
    # what PostgreSQL alone used to refuse: it blocked the whole transaction there
    long_branch = mutate(results_doc("long"), ("commit", "branch"), "b" * 300)
    (data / "1a-long-branch.json").write_text(json.dumps(long_branch))
    (data / "1b-nul.json").write_text(
        json.dumps(mutate(results_doc("nul"), ("commit", "subject"), "a\0b"))
    )
    os.mkfifo(data / "2a-fifo.json")
    outcome = cli("rebuild", "--from", str(data), "--db", store_url)
    assert outcome.code == 0, outcome
    assert "3 runs stored, 0 already there, 3 skipped (see above), from 6 files" in outcome.out
    skipped = outcome.err.splitlines()
    assert len(skipped) == 3 and all(line.startswith("perfci: skipping ") for line in skipped)
    for name, why in (
        ("1a-long-branch.json", "commit.branch is longer than 255 characters"),
        ("1b-nul.json", "commit.subject contains a NUL character"),
        ("2a-fifo.json", "not a regular file"),
    ):
        assert any(name in line and why in line for line in skipped), (name, skipped)
    again = cli("rebuild", "--from", str(data), "--db", store_url)
    assert "0 runs stored, 3 already there, 3 skipped" in again.out


CONFIGS = [
    ("min_effect = " + "9" * 400 + "\n", "min_effect must be between 0 and 1"),
    ("min_effect = 0." + "0" * 400 + "1\n", "min_effect must be between 0 and 1"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ('[[acknowledge]]\nbenchmark = "*"\nreason = "a\\u0000b"\n', "contains a NUL character"),
    ('[[benchmark]]\nmatch = "' + "x" * 5000 + '"\nmin_effect = 0.1\n', "longer than"),
]


@pytest.mark.parametrize(
    ("text", "problem"), CONFIGS, ids=["400-digits", "underflow", "deep", "nul", "long"]
)
def test_a_config_that_cannot_be_used_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "perfci.toml").write_text(text)
    files = []
    for name in ("base", "head"):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(results_doc(name)))
    outcome = cli("compare", *map(str, files))  # compare reads the triage config
    assert outcome.refused(), outcome
    assert outcome.err.startswith("perfci: error: perfci.toml: ") and problem in outcome.err


def test_a_config_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "perfci.toml")
    files = []
    for name in ("base", "head"):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(results_doc(name)))
    result = _perfci("compare", *map(str, files), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "perfci: error: perfci.toml: not a regular file\n"


@pytest.mark.parametrize(
    "values",
    [["5e-324"] * 20 + ["1"] * 5, ["1e308"] * 20 + ["1e-308"] * 5, ["1e-300"] * 20 + ["1e300"]],
    ids=["subnormal", "huge-then-tiny", "tiny-then-huge"],
)
def test_detect_refuses_values_whose_ratios_overflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "s.csv"
    series.write_text("value\n" + "".join(f"{v}\n" for v in values))
    outcome = cli("detect", str(series))
    assert outcome.refused(), outcome
    assert "line 2" in outcome.err and "zero nor of a magnitude" in outcome.err


def test_db_commands_refuse_what_they_cannot_open_in_one_line(tmp_path: Path) -> None:
    import sqlite3

    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("these are my notes, not a database\n" * 100)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
    conn.close()
    unreachable = "postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=2"
    for url, problem in (
        (f"sqlite:///{not_sqlite}", "file is not a database"),
        (f"sqlite:///{newer}", "written by a newer perfci"),
        (unreachable, "cannot open the store at postgresql+psycopg://nobody:***@127.0.0.1:1"),
        ("nosuch://x", "cannot use database URL"),
    ):
        for action in ("current", "upgrade"):
            outcome = cli("db", action, "--db", url)
            assert outcome.refused() and problem in outcome.err, (url, action, outcome)
            assert "pw@" not in outcome.err
    assert not_sqlite.read_text().startswith("these are my notes")


def test_runs_masks_the_password_of_the_store_it_names(pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:s3cret@", 1)  # the server trusts any password
    listed = cli("runs", "--db", url)
    assert listed.code == 0, listed
    assert "s3cret" not in listed.out and "postgres:***@" in listed.out
    shown = cli("runs", "--show", "7", "--db", url)
    assert shown.refused() and "s3cret" not in shown.err and "***" in shown.err


@pytest.mark.parametrize("value", ["²", "١٢", "12x", "0", "-3", ""])
def test_a_pr_number_that_is_not_ascii_digits_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    for command in (
        ["context"],
        ["keep", str(tmp_path), "--head-sha", "a" * 40, "--into", "."],
        ["comment", str(tmp_path / "body.md"), "--dry-run"],
    ):
        outcome = cli(*command, "--pr", value)
        assert outcome.refused(), (command, outcome)
        assert "argument --pr" in outcome.err and "not a pull-request number" in outcome.err


def github_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the Actions runner reads it: `key=value` lines, and
    `key<<DELIMITER` followed by the value's lines and the delimiter alone on a line."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            outputs[line[:equals]] = line[equals + 1 :]
            continue
        key, delimiter = line.split("<<", 1)
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        else:
            raise AssertionError(f"{key}: no closing {delimiter}")
        outputs[key] = "\n".join(value)
    return outputs


@pytest.mark.parametrize(
    "run_url",
    ["https://ci/1\nhead_sha=" + "e" * 40, "x\r\nbase_sha=evil", "x\rpr_number=9", "plain"],
)
def test_context_values_cannot_set_other_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    outcome = cli("context", "--pr", "3", "--repo", "octo/ml", "--run-url", run_url)
    assert outcome.code == 0, outcome
    outputs = github_outputs(outcome.out)
    assert set(outputs) == {
        "repository",
        "pr_number",
        "base_sha",
        "head_sha",
        "merge_base",
        "run_url",
        "api_url",
    }
    assert (outputs["pr_number"], outputs["head_sha"], outputs["base_sha"]) == ("3", "", "")
    assert outputs["run_url"].splitlines() == run_url.splitlines()


PAYLOADS = [
    '{"pull_request": {"base": "main"}}',
    '{"pull_request": {"head": {"sha": 12}}}',
    '{"pull_request": {"number": "²"}}',
    '{"pull_request": {"number": [7]}}',
    "[" * 100_000,
]


@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=["base-str", "sha-int", "pr-²", "pr-a-list", "deep"]
)
def test_an_event_payload_of_the_wrong_shape_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    monkeypatch.chdir(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(payload)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert cli("context").refused()


def test_an_event_payload_that_is_a_fifo_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "event.json"
    os.mkfifo(fifo)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(fifo))
    result = _perfci("context", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "not a regular file" in result.stderr and str(fifo) in result.stderr


def test_a_repository_with_a_trailing_newline_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("context", "--repo", "octo/ml\n").refused()


def test_comment_refuses_a_pr_number_in_other_digits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/ml")
    body = tmp_path / "body.md"
    body.write_text("hello\n")
    assert cli("comment", str(body), "--pr", "²").refused()


def test_compare_refuses_json_nested_past_the_recursion_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_doc("good")))
    assert cli("compare", str(good), str(deep)).refused()


def test_compare_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "head.json"
    os.mkfifo(fifo)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_doc("good")))
    perfci = Path(sys.executable).parent / "perfci"
    result = subprocess.run(
        [str(perfci), "compare", str(good), str(fifo)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 2


def test_dashboard_into_an_unwritable_folder_is_one_line(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_doc("good")))
    assert cli("ingest", str(good), "--db", sqlite_url).code == 0
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert cli("dashboard", "--db", sqlite_url, "--out", str(a_file / "site")).refused()


def test_detect_refuses_a_branch_the_store_cannot_hold(seeded: str) -> None:
    for branch in ("\udcff", "b" * 256):  # undecodable bytes in argv come in as surrogates
        outcome = cli("detect", "--db", seeded, "--branch", branch)
        assert outcome.refused() and "--branch" in outcome.err, outcome


def test_history_refuses_a_name_that_is_not_text(seeded: str) -> None:
    assert cli("history", "\udcff", "--db", seeded).refused()


def test_history_checks_each_part_of_the_name_and_the_metric(seeded: str) -> None:
    for argv, problem in (
        (["n" * 513], "NAME is longer than 512 characters"),
        (["s" * 513 + "::test_x"], "NAME's suite is longer than 512 characters"),
        (["test_x", "--metric", "\udcff"], "--metric is not valid Unicode"),
        (["test_x", "--metric", "m" * 65], "--metric is longer than 64 characters"),
    ):
        outcome = cli("history", *argv, "--db", seeded)
        assert outcome.refused() and problem in outcome.err, (argv, outcome)
    # a suite and a name each within their columns: looked up, not refused for its length
    both = cli("history", "s" * 300 + "::" + "n" * 300, "--db", seeded)
    assert both.refused() and "measurements of" in both.err, both


def test_dashboard_with_a_database_url_it_cannot_parse_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = cli("dashboard", "--db", "not a url", "--out", str(tmp_path / "site"))
    assert outcome.refused() and "cannot use database URL 'not a url'" in outcome.err, outcome
    assert not (tmp_path / "site").exists()
