"""`perfci keep` of a folder whose regressions were profiled: perfci-data keeps the A/B
rounds, each checked diff and the raw traces that are JSON (parsed and written again,
gzip-compressed, within the bound the help states) under pulls/N/<head>-explain/, which
`perfci rebuild` never reads as results and the site builder reads back; a trace that is
not what it claims, a link, or a tampered diff: one line, exit 2, nothing written.

The diffs are real: the profiles an NVIDIA H200 took of a planted extra matmul
(tests/data/cuda-h200-explain), diffed by perfci, named after a benchmark whose name,
parameters and operators are hostile strings."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import benchmark, run, sha, write
from github_server import REPO, PullsGitHub, pulls_github
from test_cli import perfci

from perfci.ab.diff_file import FOLDER, ExplainedTest, ExplainEntry, write_diff
from perfci.ab.manifest import MANIFEST, manifest_of, write_manifest
from perfci.ab.session import DECIDED, Outcome
from perfci.compare import ResultsFile
from perfci.dashboard.kept import INDEX, MAX_TRACE_BYTES, MAX_TRACES_BYTES, read_kept
from perfci.explain import diff_profiles, explanation_json, read_profile
from perfci.explain.diff import Explanation

TOKEN = "ghs_keep_explain_token_0123"
BASE, HEAD = sha("kept-merge-base"), sha("kept-head")
NUMBER = 42
DATA = Path(__file__).parent / "data" / "cuda-h200-explain"
HOSTILE = "<script>window.__pwned=1</script>|**x**`"  # HTML, a table cell, a code span
SUITE, NAME = "suites/test_work", f"test_mm_{'<b>'}"  # the test's name as the plugin gives it
PARAMS = {"backend": "torch", "label": HOSTILE}
NODE = f"suites/test_work.py::{NAME}[{HOSTILE}]"
ORDER = "ABBABAAB"


def profiles(case: str = "extra-matmul", side: str = "base") -> list[Any]:
    return [read_profile(DATA / case / f"{side}-{i}.json") for i in (1, 2)]


def hostile_diff(within_noise: bool = False) -> Explanation:
    """The H200's extra-matmul diff (or base against base: all within noise), renamed to
    the hostile benchmark, its largest change named by a hostile string."""
    head = profiles("extra-matmul", "base" if within_noise else "head")
    found = diff_profiles(profiles(), head)
    first = found.sections[0]
    renamed = (dataclasses.replace(first.changes[0], name=HOSTILE), *first.changes[1:])
    sections = (dataclasses.replace(first, changes=renamed), *found.sections[1:])
    renamed_diff: Explanation = dataclasses.replace(
        found, nodeid=NODE, suite=SUITE, name=NAME, params=dict(PARAMS), sections=sections,
        notes=(*found.notes, f"note {HOSTILE}"),
    )  # fmt: skip
    return renamed_diff


def chrome_trace(explanation: Explanation, side: int) -> dict[str, Any]:
    """A Chrome trace of the diff's entries (complete events, one a call), hostile names
    included: data for whoever opens it, never markup."""
    events, ts = [], 0.0
    for c in explanation.sections[0].changes:
        seconds = (c.base_s if side == 0 else c.head_s) or 0.0
        events.append({"name": c.name, "ph": "X", "ts": ts, "dur": seconds * 1e6, "pid": 1,
                       "tid": 1, "cat": "cpu_op"})  # fmt: skip
        ts += seconds * 1e6
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def ab_run(commit: str, index: int, slower: float) -> Any:
    seed = 2 * index + (commit == HEAD)
    measured = run(
        commit=commit,
        benchmarks=(benchmark(NAME, dict(PARAMS), 1e-3 * slower, seed, suite=SUITE),),
        started_at=f"2026-11-01T10:{index:02d}:00+00:00",
    )
    return dataclasses.replace(measured, run=dataclasses.replace(measured.run, trigger="ab"))


def write_profiled(path: Path, diff: Explanation, big: bool = False) -> ExplainEntry:
    """What profiling one test leaves under `path`/explain/: its diff, JSON traces of two
    processes a side, cProfile's dumps beside them, and (with `big`) one trace past the
    keep bound; the entry that names them."""
    test = f"{FOLDER}/test-work"
    traces = []
    for process in ("base-1", "head-1", "head-2", "base-2"):
        where = path / test / process / "profile"
        where.mkdir(parents=True)
        (where / "torch-trace.json").write_text(
            json.dumps(chrome_trace(diff, process.startswith("head")), indent=2)
        )
        (where / "python.prof").write_bytes(b"\xe3\x00marshal, not JSON")
        profile = f"{test}/{process}/profile"
        traces += [f"{profile}/torch-trace.json", f"{profile}/python.prof"]
    if big:
        events = [{"name": "x" * 100, "ph": "X", "ts": i, "dur": 1} for i in range(
            MAX_TRACE_BYTES // 100)]  # fmt: skip
        (path / test / "base-1" / "profile" / "big-trace.json").write_text(json.dumps(events))
        traces.append(f"{test}/base-1/profile/big-trace.json")
    write_diff(path, f"{test}/diff-work.json", diff)
    tested = ExplainedTest(diff.nodeid, f"{test}/diff-work.json", tuple(traces))
    return ExplainEntry(300.0, 42.5, 6, (tested,), ())


def explained_folder(
    path: Path, slower: float = 1.4, big: bool = False, diff: Explanation | None = None
) -> Path:
    """An A/B folder as `perfci ab --results` leaves it when its regression was profiled
    (`write_profiled`), the head's `slower` times the base's in every round."""
    path.mkdir()
    pairs = []
    for i in range(4):
        files = []
        for side, commit, factor in (("base", BASE, 1.0), ("head", HEAD, slower)):
            target = path / f"round-{i + 1:02d}-{side}.json"
            files.append(ResultsFile(str(target), ab_run(commit, i, factor)))
            write(files[-1].result, target)
        pairs.append((files[0], files[1]))
    entry = write_profiled(path, hostile_diff() if diff is None else diff, big)
    outcome = Outcome(pairs, ORDER, [], 123.0, DECIDED)
    write_manifest(path, manifest_of(outcome, BASE, HEAD, entry))
    (path / "pr-number").write_text(f"{NUMBER}\n")
    return path


@pytest.fixture
def github() -> Iterator[PullsGitHub]:
    with pulls_github(TOKEN) as state:
        state.pulls[NUMBER] = HEAD
        yield state


def keep(folder: Path, data: Path, github: PullsGitHub, *extra: str) -> Any:
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url,
           "GITHUB_REPOSITORY": REPO, "PERFCI_GITHUB_BACKOFF": "0"}  # fmt: skip
    return perfci("keep", str(folder), "--pr", str(NUMBER), "--head-sha", HEAD, "--into",
                  str(data), *extra, cwd=data.parent, env=env)  # fmt: skip


def gunzip_json(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def test_the_rounds_the_diff_and_the_json_traces_are_kept(
    tmp_path: Path, github: PullsGitHub
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr")
    data = tmp_path / "perfci-data"
    data.mkdir()
    done = keep(folder, data, github)
    assert done.returncode == 0, done.stderr
    pulls = data / "pulls" / str(NUMBER)
    kept = pulls / f"{HEAD}-explain"
    assert f"1 profile diff(s) with 4 raw trace(s) of {HEAD[:12]} in {kept}" in done.stdout
    assert "left out 4 trace(s) that are not JSON" in done.stdout
    assert sorted(p.name for p in kept.iterdir()) == sorted(
        [INDEX, "diff-1.json.gz", *(f"trace-1-{j}.json.gz" for j in (1, 3, 5, 7))]
    )
    assert not list(kept.rglob("*.json"))  # nothing rebuild would read as a results file
    for j, process in zip((1, 3, 5, 7), ("base-1", "head-1", "head-2", "base-2"), strict=True):
        source = folder / FOLDER / "test-work" / process / "profile" / "torch-trace.json"
        assert gunzip_json(kept / f"trace-1-{j}.json.gz") == json.loads(source.read_text())
    back = read_kept(kept, NUMBER, HEAD)
    assert back.ab is not None and back.ab.base == BASE and back.ab.order == ORDER
    assert all((pulls / name).is_file() for pair in back.ab.rounds for name in pair)
    assert back.profiled_base == BASE and back.explained is not None
    (diff,) = back.explained.explanations
    assert explanation_json(diff) == explanation_json(hostile_diff())
    shown = {t.name: t.left_out for t in back.traces[NODE]}
    assert shown["base-1/torch-trace.json"] is None
    assert shown["base-1/python.prof"] == "not a JSON trace"


def test_keeping_the_same_head_again_writes_the_same_bytes(
    tmp_path: Path, github: PullsGitHub
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr")
    data = tmp_path / "perfci-data"
    data.mkdir()
    assert keep(folder, data, github).returncode == 0
    first = {p.relative_to(data): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert keep(folder, data, github).returncode == 0
    again = {p.relative_to(data): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert again == first
    assert not [p for p in data.rglob(".*")]  # no staged or replaced folder left behind


def test_rebuild_stores_the_rounds_and_reads_nothing_else(
    tmp_path: Path, github: PullsGitHub
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr")
    data = tmp_path / "perfci-data"
    data.mkdir()
    assert keep(folder, data, github).returncode == 0
    done = perfci("rebuild", "--from", str(data / "pulls"), "--db",
                  f"sqlite:///{tmp_path / 'site.db'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("8 runs stored, 0 already there, from 8 files")


def test_a_trace_past_the_bound_is_left_out_and_said_so(
    tmp_path: Path, github: PullsGitHub
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr", big=True)
    data = tmp_path / "perfci-data"
    data.mkdir()
    done = keep(folder, data, github)
    assert done.returncode == 0, done.stderr
    bound = f"larger than {MAX_TRACE_BYTES >> 20} MiB"
    assert f"left out base-1/big-trace.json: {bound}" in done.stdout
    back = read_kept(data / "pulls" / str(NUMBER) / f"{HEAD}-explain", NUMBER, HEAD)
    (big,) = [t for t in back.traces[NODE] if t.name == "base-1/big-trace.json"]
    assert big.file is None and big.left_out == bound and big.size > MAX_TRACE_BYTES


def test_the_help_states_the_bounds() -> None:
    done = perfci("keep", "--help", cwd=Path.cwd())
    text = " ".join(done.stdout.split())
    assert f"over {MAX_TRACE_BYTES >> 20} MiB" in text
    assert f"past {MAX_TRACES_BYTES >> 20} MiB of traces for the head" in text


def _not_json(folder: Path) -> None:
    trace = folder / FOLDER / "test-work" / "head-1" / "profile" / "torch-trace.json"
    trace.write_text('{"traceEvents": [NaN]}')


def _linked(folder: Path) -> None:
    trace = folder / FOLDER / "test-work" / "head-2" / "profile" / "torch-trace.json"
    trace.unlink()
    trace.symlink_to(folder / MANIFEST)


def _tampered_diff(folder: Path) -> None:
    path = folder / FOLDER / "test-work" / "diff-work.json"
    doc = json.loads(path.read_text())
    doc["sections"][0]["changes"][0]["verdict"] = "fine"
    path.write_text(json.dumps(doc))


def _outside(folder: Path) -> None:
    doc = json.loads((folder / MANIFEST).read_text())
    doc["explain"]["tests"][0]["traces"][0] = "explain/../../etc/passwd"
    (folder / MANIFEST).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_not_json, "a raw trace that is not valid JSON"),
        (_linked, "not a plain file"),
        (_tampered_diff, "unknown key 'verdict'"),
        (_outside, "is not a file's path under explain/"),
    ],
    ids=["trace-not-json", "trace-a-link", "diff-tampered", "trace-outside"],
)
def test_a_folder_that_is_not_as_perfci_wrote_it_keeps_nothing(
    tmp_path: Path, github: PullsGitHub, spoil: Any, message: str
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr")
    spoil(folder)
    data = tmp_path / "perfci-data"
    data.mkdir()
    done = keep(folder, data, github)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert list(data.rglob("*")) == []
