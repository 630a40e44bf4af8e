"""The trusted comment of a history-mode folder whose regressions were profiled: the
folder's results are compared against main's kept runs, and a why section is rendered,
from the checked diff, only for a regression that comparison finds, profiled against
its own base commit; an entry that is not exactly what perfci writes is one line, exit 2,
nothing posted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from factories import sha
from test_cli import perfci
from test_keep_explain import BASE, HEAD, HOSTILE, NUMBER
from test_pull_explain import history_folder, history_runs

from perfci.explain.history import ENTRY
from perfci.report.markdown import code


def comment(tmp_path: Path, folder: Path) -> Any:
    db = f"sqlite:///{tmp_path / 'comment.db'}"
    env = {"PATH": os.environ["PATH"], "PERFCI_DB": db}
    done = perfci("rebuild", "--from", str(history_runs(tmp_path / "runs")), cwd=tmp_path,
                  env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return perfci("comment", "--results", str(folder), "--pr", str(NUMBER), "--head-sha", HEAD,
                  "--base", BASE, "--dry-run", cwd=tmp_path, env=env)  # fmt: skip


def test_the_regression_has_its_why_section(tmp_path: Path) -> None:
    done = comment(tmp_path, history_folder(tmp_path / "perfci-pr", 1.6, BASE))
    assert done.returncode == 0, done.stderr
    body = done.stdout
    assert body.splitlines()[1].startswith("**perfci: 2 regressions**")  # latency, cold start
    why = body.index("<details><summary>Why suites/test\\_work::")
    assert body.index("**Regressions**") < why
    assert "Why they regressed: 1 benchmark test(s) profiled on base and head" in body
    assert f"| {code(HOSTILE)} | " in body  # the operator: a code span, never markup


def test_no_regression_no_why_section(tmp_path: Path) -> None:
    done = comment(tmp_path, history_folder(tmp_path / "perfci-pr", 1.0, BASE))
    assert done.returncode == 0, done.stderr
    assert "<details><summary>Why" not in done.stdout and "profiled" not in done.stdout


def test_a_diff_profiled_against_another_commit_is_left_out(tmp_path: Path) -> None:
    other = sha("not the base")
    done = comment(tmp_path, history_folder(tmp_path / "perfci-pr", 1.6, other))
    assert done.returncode == 0, done.stderr
    assert f"Profile diffs left out: they were profiled against `{other[:12]}`" in done.stdout
    assert "<details><summary>Why" not in done.stdout


def _entry(folder: Path, change: Any) -> None:
    doc = json.loads((folder / ENTRY).read_text())
    change(doc)
    (folder / ENTRY).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(verdicts=["regression"]), "unknown key 'verdicts'"),
        (lambda d: d.update(head=sha("another head")), "profile diffs of "),
        (lambda d: d.update(base="main"), "base must be a full 40-character commit sha"),
        (lambda d: d.update(format_version=2), "format_version must be 1"),
        (lambda d: d["explain"]["tests"][0].update(diff="../run-1.json"), "is not a file's path"),
    ],
    ids=["verdicts", "another-head", "base-a-branch", "newer", "diff-outside"],
)
def test_a_tampered_entry_is_one_line_and_nothing_posted(
    tmp_path: Path, change: Any, message: str
) -> None:
    folder = history_folder(tmp_path / "perfci-pr", 1.6, BASE)
    _entry(folder, change)
    done = comment(tmp_path, folder)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
