"""What `perfci keep` keeps beside a pull request's results files on perfci-data, and the
site builder reads back: `pulls/<N>/<head sha>-explain/`, one folder per head commit.

- `index.json.gz`: which pull request and head it is; for a same-job A/B comparison, its
  rounds (the kept results files' names, in the order measured), base, order, why it
  stopped and the time it took, so the pull-request page judges the rounds again from
  the kept files; and, when its regressions were profiled, the commit profiled as base,
  the budget and time, the tests left unexplained, and per test its diff file and raw
  traces (each kept, or left out and why).
- `diff-<k>.json.gz`: a test's diff (`explanation_json`), re-serialised from what the
  checks read (`perfci.ab.diff_file.parse_explanation`).
- `trace-<k>-<j>.json.gz`: a raw trace (Chrome trace / Perfetto JSON), parsed as JSON and
  re-serialised, so what is kept is plain data, whatever bytes the artifact held. A
  trace that is not JSON by name (cProfile's, MLX's DOT graph) is left out; one over
  `MAX_TRACE_BYTES`, or past `MAX_TRACES_BYTES` for the head, is left out and said so.

Everything is gzip-compressed JSON (`*.json.gz`): `perfci rebuild --from pulls/` reads
every `*.json` as a results file, and never these. The folder is data to the site
builder as well: read back with bounded decompression, exact keys and plain names.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.ab.diff_file import (
    MAX_DIFF_BYTES,
    REASONS,
    ExplainedTest,
    ExplainEntry,
    Unexplained,
    check_plain,
    parse_explanation,
    read_plain,
)
from perfci.ab.diff_file import MAX_TRACE_BYTES as ARTIFACT_TRACE_BYTES
from perfci.ab.explained import Explained
from perfci.explain.diff import Explanation
from perfci.explain.render import explanation_json
from perfci.results import ResultsError, is_sha

SUFFIX = "-explain"  # pulls/<N>/<head sha>-explain/
INDEX = "index.json.gz"
FORMAT = "perfci-kept"
FORMAT_VERSION = 1
MAX_TRACE_BYTES = 16 << 20  # one raw trace, as JSON
MAX_TRACES_BYTES = 64 << 20  # all of one head's raw traces, as JSON
MAX_INDEX_BYTES = 4 << 20
NOT_JSON = "not a JSON trace"
_FILE = re.compile(r"(diff-[0-9]{1,4}|trace-[0-9]{1,4}-[0-9]{1,3})\.json\.gz")
_NAME = re.compile(r"[A-Za-z0-9._=/-]{1,400}")
_KEPT_RESULTS = re.compile(r"[0-9a-f]{40}-[a-z0-9_-]{1,80}\.json")


@dataclass(frozen=True)
class Trace:
    """One raw trace of a profiled test: its name in the artifact (process folder and
    file), the kept file (None when left out), its size as JSON, and why it was left
    out."""

    name: str
    file: str | None
    size: int
    left_out: str | None = None


@dataclass(frozen=True)
class Rounds:
    """A same-job A/B comparison's rounds as kept: (base, head) results file names in
    `pulls/<N>/`, in the order measured."""

    base: str
    order: str
    rounds: tuple[tuple[str, str], ...]
    stopped: str
    elapsed_s: float


@dataclass(frozen=True)
class KeptHead:
    """One head commit's kept folder, read back."""

    number: int
    head: str
    folder: Path
    ab: Rounds | None
    profiled_base: str | None  # the commit profiled as base, when profiled
    explained: Explained | None  # its tests' diffs named by kept file
    traces: dict[str, tuple[Trace, ...]]  # per test node id


def folder_of(pulls: Path, number: int, head: str) -> Path:
    return pulls / str(number) / f"{head}{SUFFIX}"


def _gz(doc: Any) -> bytes:
    """Compact JSON, gzip-compressed without a timestamp: keeping the same head again
    writes the same bytes."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return gzip.compress(text.encode("ascii"), mtime=0)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def trace_json(raw: bytes, where: str) -> bytes:
    """`raw` parsed as strict JSON (no NaN or Infinity) and written again, compact."""
    try:
        doc = json.loads(raw, parse_constant=_refuse_constant)
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ResultsError(f"{where}: a raw trace that is not valid JSON") from None
    return text.encode("ascii")


def kept_files(
    number: int,
    head: str,
    source: Path,
    ab: Rounds | None,
    profiled: tuple[str, Explained] | None,
) -> tuple[list[tuple[str, bytes]], list[Trace]]:
    """The kept folder's files (name, gzip bytes), the index last, and every raw trace
    with what became of it. `source` is the checked artifact whose `profiled` entry (the
    base commit profiled, the checked diffs) names the traces; each is read again here,
    through real folders, and must be JSON. ResultsError for a trace that is not."""
    files: list[tuple[str, bytes]] = []
    traces: list[Trace] = []
    explain: dict[str, Any] | None = None
    if profiled is not None:
        base, explained = profiled
        total = 0
        tests = []
        for k, (test, diff) in enumerate(
            zip(explained.entry.tests, explained.explanations, strict=True), start=1
        ):
            files.append((f"diff-{k}.json.gz", _gz(explanation_json(diff))))
            kept = []
            for j, relative in enumerate(test.traces, start=1):
                trace, data = _trace(source, relative, f"trace-{k}-{j}.json.gz", total)
                if data is not None:
                    total += len(data)
                    files.append((str(trace.file), gzip.compress(data, mtime=0)))
                kept.append(trace)
            traces += kept
            tests.append({"nodeid": test.nodeid, "diff": f"diff-{k}.json.gz",
                          "traces": [_trace_doc(t) for t in kept]})  # fmt: skip
        entry = explained.entry
        explain = {
            "base": base,
            "budget_s": entry.budget_s,
            "elapsed_s": round(entry.elapsed_s, 3),
            "calls": entry.calls,
            "tests": tests,
            "unexplained": [{"nodeid": u.nodeid, "reason": u.reason} for u in entry.unexplained],
        }
    rounds = None
    if ab is not None:
        rounds = {
            "base": ab.base,
            "order": ab.order,
            "rounds": [{"base": b, "head": h} for b, h in ab.rounds],
            "stopped": ab.stopped,
            "elapsed_s": round(ab.elapsed_s, 3),
        }
    index = {"format": FORMAT, "format_version": FORMAT_VERSION, "pr": number, "head": head,
             "ab": rounds, "explain": explain}  # fmt: skip
    files.append((INDEX, _gz(index)))
    return files, traces


def _trace(source: Path, relative: str, file: str, total: int) -> tuple[Trace, bytes | None]:
    """One trace of the artifact: its kept JSON, or None and why it is left out."""
    parts = relative.split("/")
    # explain/test-…/<process>/…/<file>: the process and the file say which it is
    name = f"{parts[2]}/{parts[-1]}" if len(parts) > 3 else parts[-1]
    if not parts[-1].endswith(".json"):
        return Trace(name, None, 0, NOT_JSON), None
    raw = read_plain(source, relative, ARTIFACT_TRACE_BYTES)
    data = b"" if len(raw) > MAX_TRACE_BYTES else trace_json(raw, str(source / relative))
    size = max(len(raw), len(data))
    if size > MAX_TRACE_BYTES:
        return Trace(name, None, size, f"larger than {MAX_TRACE_BYTES >> 20} MiB"), None
    if total + len(data) > MAX_TRACES_BYTES:
        why = f"past {MAX_TRACES_BYTES >> 20} MiB of traces for this head"
        return Trace(name, None, len(data), why), None
    return Trace(name, file, len(data)), data


def _trace_doc(t: Trace) -> dict[str, Any]:
    return {"name": t.name, "file": t.file, "bytes": t.size, "left_out": t.left_out}


# -- reading back, on the site builder's side -----------------------------------------------


def read_gz(folder: Path, name: str, most: int) -> bytes:
    """`folder`/`name`, a plain file, decompressed to at most `most` bytes."""
    raw = read_plain(folder, name, most)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            data = f.read(most + 1)
    except (OSError, EOFError):
        raise ResultsError(f"{folder / name}: not gzip-compressed") from None
    if len(data) > most:
        raise ResultsError(f"{folder / name}: larger than {most} bytes once decompressed")
    return data


def _json(folder: Path, name: str, most: int) -> Any:
    try:
        return json.loads(read_gz(folder, name, most), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ResultsError(f"{folder / name}: not valid JSON") from None


def _exact(value: object, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise ResultsError(f"{where}: must be an object of exactly {', '.join(sorted(keys))}")
    return value


def _sha(value: object, where: str) -> str:
    if not (isinstance(value, str) and is_sha(value) and len(value) == 40):
        raise ResultsError(f"{where}: must be a full 40-character commit sha")
    return value


def _string(value: object, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or len(value) > 2000 or "\0" in value:
        raise ResultsError(f"{where}: must be a string")
    if pattern is not None and not pattern.fullmatch(value):
        raise ResultsError(f"{where}: {value[:80]!r} is not a kept file's name")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise ResultsError(f"{where}: must be a number of at least 0")
    return float(value)


def read_kept(folder: Path, number: int, head: str) -> KeptHead:
    """The kept folder of pull request `number` at `head`, every part checked again."""
    where = str(folder / INDEX)
    doc = _exact(_json(folder, INDEX, MAX_INDEX_BYTES), {"format", "format_version", "pr",
                 "head", "ab", "explain"}, where)  # fmt: skip
    if doc["format"] != FORMAT or doc["format_version"] != FORMAT_VERSION:
        raise ResultsError(f"{where}: not a kept folder of format {FORMAT} {FORMAT_VERSION}")
    if doc["pr"] != number or _sha(doc["head"], f"{where}: head") != head:
        raise ResultsError(f"{where}: not pull request #{number} at {head[:12]}")
    ab = None if doc["ab"] is None else _rounds(doc["ab"], f"{where}: ab")
    if doc["explain"] is None:
        return KeptHead(number, head, folder, ab, None, None, {})
    base, explained, traces = _explain(folder, doc["explain"], f"{where}: explain")
    return KeptHead(number, head, folder, ab, base, explained, traces)


def _rounds(value: object, where: str) -> Rounds:
    r = _exact(value, {"base", "order", "rounds", "stopped", "elapsed_s"}, where)
    if not isinstance(r["rounds"], list) or not 1 <= len(r["rounds"]) <= 1000:
        raise ResultsError(f"{where}.rounds: must be a list of 1 to 1000 rounds")
    pairs = []
    for i, pair in enumerate(r["rounds"]):
        at = f"{where}.rounds[{i}]"
        item = _exact(pair, {"base", "head"}, at)
        pairs.append((_string(item["base"], at, _KEPT_RESULTS),
                      _string(item["head"], at, _KEPT_RESULTS)))  # fmt: skip
    order = _string(r["order"], f"{where}.order", re.compile(r"(AB|BA){1,1000}"))
    if len(order) != 2 * len(pairs):
        raise ResultsError(f"{where}.order: two letters a round")
    return Rounds(_sha(r["base"], f"{where}.base"), order, tuple(pairs),
                  _string(r["stopped"], f"{where}.stopped"),
                  _number(r["elapsed_s"], f"{where}.elapsed_s"))  # fmt: skip


def _explain(
    folder: Path, value: object, where: str
) -> tuple[str, Explained, dict[str, tuple[Trace, ...]]]:
    keys = {"base", "budget_s", "elapsed_s", "calls", "tests", "unexplained"}
    doc = _exact(value, keys, where)
    if not isinstance(doc["tests"], list) or not isinstance(doc["unexplained"], list):
        raise ResultsError(f"{where}: tests and unexplained must be lists")
    tests, diffs = [], []
    traces: dict[str, tuple[Trace, ...]] = {}
    for i, t in enumerate(doc["tests"][:1000]):
        at = f"{where}.tests[{i}]"
        item = _exact(t, {"nodeid", "diff", "traces"}, at)
        nodeid, diff = _string(item["nodeid"], at), _string(item["diff"], at, _FILE)
        explanation = _diff(folder, diff)
        if explanation.nodeid != nodeid:
            raise ResultsError(f"{folder / diff}: the diff of another test than {nodeid[:80]!r}")
        if not isinstance(item["traces"], list):
            raise ResultsError(f"{at}.traces: must be a list")
        kept = tuple(_read_trace(folder, x, f"{at}.traces") for x in item["traces"][:64])
        tests.append(ExplainedTest(nodeid, diff, tuple(k.file for k in kept if k.file)))
        diffs.append(explanation)
        traces[nodeid] = kept
    unexplained = []
    for u in doc["unexplained"][:1000]:
        item = _exact(u, {"nodeid", "reason"}, f"{where}.unexplained")
        if item["reason"] not in REASONS:
            raise ResultsError(f"{where}.unexplained: reason must be one of {', '.join(REASONS)}")
        unexplained.append(Unexplained(_string(item["nodeid"], where), item["reason"]))
    calls = doc["calls"]
    if isinstance(calls, bool) or not isinstance(calls, int) or not 0 <= calls <= 100_000:
        raise ResultsError(f"{where}.calls: must be a whole number from 0 to 100000")
    entry = ExplainEntry(_number(doc["budget_s"], where), _number(doc["elapsed_s"], where),
                         calls, tuple(tests), tuple(unexplained))  # fmt: skip
    return _sha(doc["base"], f"{where}.base"), Explained(entry, tuple(diffs)), traces


def _diff(folder: Path, name: str) -> Explanation:
    return parse_explanation(_json(folder, name, MAX_DIFF_BYTES), f"{folder / name}: diff")


def _read_trace(folder: Path, value: object, where: str) -> Trace:
    doc = _exact(value, {"name", "file", "bytes", "left_out"}, where)
    name = _string(doc["name"], where, _NAME)
    size = int(_number(doc["bytes"], where))
    if doc["file"] is None:
        return Trace(name, None, size, _string(doc["left_out"], where))
    file = _string(doc["file"], where, _FILE)
    check_plain(folder, file, MAX_TRACE_BYTES)  # compressed, never larger than the JSON
    return Trace(name, file, size)
