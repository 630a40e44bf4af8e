"""The profile diffs an A/B folder keeps: the manifest's optional `explain` entry (per
profiled test, its diff file and raw traces; what was left unexplained and why; the
budget and the time used) and the diff files themselves (`explanation_json`, one a
test, under `explain/`).

A pull request's folder is read on the trusted side as data, so everything here is
checked field by field before anything is rendered: exact key sets, known statuses,
tools and clocks, finite numbers, bounded text, and paths that stay inside the folder
and name plain files (no link anywhere on the way). A diff file that is not exactly as
`perfci ab` writes it is refused with one line (`ResultsError`).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.explain.diff import STATUSES, Change, Explanation, SectionDiff
from perfci.explain.render import CLOCKS, TOOLS, explanation_json
from perfci.limits import LimitError, check_json, check_text
from perfci.results import ResultsError

FOLDER = "explain"  # inside the A/B folder: profiles, traces and diffs, never a top-level *.json
TIME = "the time budget"  # why a test was left unexplained
FAILED = "profiling failed"
REASONS = (TIME, FAILED)
MAX_TESTS = 1000
MAX_TRACES = 64  # per test: a few files per process, four processes
MAX_DIFF_BYTES = 8 << 20
MAX_TRACE_BYTES = 64 << 20
MAX_CHANGES = 5000
MAX_TEXT = 2000
_PART = re.compile(r"(?!\.\.?$)[A-Za-z0-9._=-]{1,200}")  # a plain name, never . or ..
ENTRY_KEYS = frozenset({"budget_s", "elapsed_s", "calls", "tests", "unexplained"})
_CHANGE_KEYS = frozenset(
    {
        "name", "kind", "status", "base_s", "head_s", "delta_s", "noise_s", "cpu_delta_s",
        "device_delta_s", "calls_base", "calls_head", "calls_changed", "device_base",
        "device_head", "cost_base", "cost_head", "shapes", "calls_delta", "moved",
    }
)  # fmt: skip
_SECTION_KEYS = frozenset(
    {"tool", "clock", "within_noise", "segments", "total", "load_s", "changes"}
)
_TOP_KEYS = frozenset(
    {
        "nodeid", "suite", "name", "params", "backend", "device", "within_noise",
        "processes", "summary", "notes", "sections",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ExplainedTest:
    """One profiled test: its pytest node id, and its diff file and raw traces as paths
    relative to the A/B folder."""

    nodeid: str
    diff: str
    traces: tuple[str, ...]


@dataclass(frozen=True)
class Unexplained:
    """A regressed benchmark's test function that was not profiled, and why (REASONS)."""

    nodeid: str
    reason: str


@dataclass(frozen=True)
class ExplainEntry:
    """The manifest's `explain` entry."""

    budget_s: float
    elapsed_s: float
    calls: int
    tests: tuple[ExplainedTest, ...]
    unexplained: tuple[Unexplained, ...]

    def to_doc(self) -> dict[str, Any]:
        return {
            "budget_s": self.budget_s,
            "elapsed_s": round(self.elapsed_s, 3),
            "calls": self.calls,
            "tests": [
                {"nodeid": t.nodeid, "diff": t.diff, "traces": list(t.traces)} for t in self.tests
            ],
            "unexplained": [{"nodeid": u.nodeid, "reason": u.reason} for u in self.unexplained],
        }


def write_diff(folder: Path, relative: str, explanation: Explanation) -> None:
    """The diff file `relative` (inside `folder`), written whole or not at all."""
    path = folder / relative
    partial = path.with_name(f".{path.name}.partial")
    text = json.dumps(explanation_json(explanation), indent=1, allow_nan=False)
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(path)


# -- reading, on the trusted side ---------------------------------------------------------


def _fail(where: str, what: str) -> ResultsError:
    return ResultsError(f"{where}: {what}")


def _text(value: object, where: str, none: bool = False) -> Any:
    if value is None and none:
        return None
    if not isinstance(value, str):
        raise _fail(where, "must be a string" + (" or null" if none else ""))
    try:
        check_text(value, where, MAX_TEXT)
    except LimitError as exc:
        raise ResultsError(str(exc)) from None
    return value


def _number(value: object, where: str, none: bool = False) -> Any:
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, "must be a number" + (" or null" if none else ""))
    if not math.isfinite(value) or abs(value) > 1e12:
        raise _fail(where, "must be a finite number of plausible size")
    return float(value)


def _count(value: object, where: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise _fail(where, f"must be a whole number from 0 to {high}")
    return value


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false")
    return value


def _object(value: object, keys: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        extra = sorted(set(value) - keys) if isinstance(value, dict) else []
        shown = f" (unknown key {extra[0][:40]!r})" if extra else ""
        raise _fail(where, f"must be an object of exactly {', '.join(sorted(keys))}{shown}")
    return value


def _list(value: object, where: str, most: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > most:
        raise _fail(where, f"must be a list of at most {most}")
    return value


def parse_entry(value: object, where: str) -> ExplainEntry:
    """The manifest's `explain` entry, checked (the files it names are not read here)."""
    doc = _object(value, ENTRY_KEYS, where)
    tests = []
    for i, t in enumerate(_list(doc["tests"], f"{where}.tests", MAX_TESTS)):
        at = f"{where}.tests[{i}]"
        item = _object(t, frozenset({"nodeid", "diff", "traces"}), at)
        traces = _list(item["traces"], f"{at}.traces", MAX_TRACES)
        tests.append(
            ExplainedTest(
                _text(item["nodeid"], f"{at}.nodeid"),
                _relative(item["diff"], f"{at}.diff"),
                tuple(_relative(p, f"{at}.traces[{j}]") for j, p in enumerate(traces)),
            )
        )
    unexplained = []
    for i, u in enumerate(_list(doc["unexplained"], f"{where}.unexplained", MAX_TESTS)):
        at = f"{where}.unexplained[{i}]"
        item = _object(u, frozenset({"nodeid", "reason"}), at)
        if item["reason"] not in REASONS:
            raise _fail(f"{at}.reason", f"must be one of {', '.join(REASONS)}")
        unexplained.append(Unexplained(_text(item["nodeid"], f"{at}.nodeid"), item["reason"]))
    names = [t.nodeid for t in tests]
    files = [t.diff for t in tests]
    if len(set(names)) < len(names) or len(set(files)) < len(files):
        raise _fail(where, "a test or diff file is named twice")
    return ExplainEntry(
        _number(doc["budget_s"], f"{where}.budget_s"),
        _number(doc["elapsed_s"], f"{where}.elapsed_s"),
        _count(doc["calls"], f"{where}.calls", 100_000),
        tuple(tests),
        tuple(unexplained),
    )


def _relative(value: object, where: str) -> str:
    """A path inside the folder's `explain/`, of plain names only (no `..`, no `/` lead)."""
    text = _text(value, where)
    parts = text.split("/")
    if len(parts) < 2 or parts[0] != FOLDER or not all(_PART.fullmatch(p) for p in parts[1:]):
        raise _fail(where, f"{text[:80]!r} is not a file's path under {FOLDER}/ in this folder")
    return str(text)


def versioned_json(raw: bytes, where: str, fmt: str, version: int, what: str) -> dict[str, Any]:
    """`raw` parsed as a JSON object whose `format` is `fmt` and `format_version` is
    `version` (`what` names such a document in the message); ResultsError otherwise."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ResultsError(f"{where}: not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ResultsError(f"{where}: not {what} (format {fmt!r})")
    if doc.get("format_version") != version:
        raise ResultsError(f"{where}: format_version must be {version}")
    return doc


def read_plain(folder: Path, relative: str, most: int) -> bytes:
    """The bytes of `folder`/`relative`: every step a real folder, the end a plain file of
    at most `most` bytes; ResultsError otherwise."""
    check_plain(folder, relative, most)
    try:
        return (folder / relative).read_bytes()
    except OSError as exc:
        raise _fail(str(folder / relative), f"cannot read ({exc.strerror or exc})") from None


def check_plain(folder: Path, relative: str, most: int) -> None:
    """`folder`/`relative` is a plain file of at most `most` bytes, reached through real
    folders (a link on the way could lead out of the folder)."""
    path = folder
    parts = relative.split("/")
    for i, part in enumerate(parts):
        path = path / part
        try:
            info = os.lstat(path)
        except OSError as exc:
            raise _fail(str(path), f"cannot read ({exc.strerror or exc})") from None
        last = i == len(parts) - 1
        if not (stat.S_ISREG(info.st_mode) if last else stat.S_ISDIR(info.st_mode)):
            raise _fail(str(path), "not a plain file" if last else "not a plain folder")
        if last and info.st_size > most:
            raise _fail(str(path), f"larger than {most} bytes")


def read_diff(folder: Path, test: ExplainedTest) -> Explanation:
    """The diff file of `test`, checked to be exactly what `perfci ab` writes, of the
    test the manifest names."""
    where = str(folder / test.diff)
    raw = read_plain(folder, test.diff, MAX_DIFF_BYTES)
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _fail(where, "not valid JSON") from None
    for trace in test.traces:
        check_plain(folder, trace, MAX_TRACE_BYTES)
    explanation = parse_explanation(doc, f"{where}: diff")
    if explanation.nodeid != test.nodeid:
        raise _fail(where, f"the diff of another test than {test.nodeid[:80]!r}")
    return explanation


def parse_explanation(value: object, where: str) -> Explanation:
    """`explanation_json`'s document back as the Explanation it was made from."""
    doc = _object(value, _TOP_KEYS, where)
    params = doc["params"]
    if not isinstance(params, dict):
        raise _fail(f"{where}.params", "must be an object")
    try:
        check_json(params, f"{where}.params", max_depth=4)
    except LimitError as exc:
        raise ResultsError(str(exc)) from None
    processes = _object(doc["processes"], frozenset({"base", "head"}), f"{where}.processes")
    notes = _list(doc["notes"], f"{where}.notes", 200)
    sections = _list(doc["sections"], f"{where}.sections", len(TOOLS))
    explanation = Explanation(
        nodeid=_text(doc["nodeid"], f"{where}.nodeid"),
        suite=_text(doc["suite"], f"{where}.suite"),
        name=_text(doc["name"], f"{where}.name"),
        params=dict(params),
        backend=_text(doc["backend"], f"{where}.backend", none=True),
        device=_text(doc["device"], f"{where}.device", none=True),
        sections=tuple(_section(s, f"{where}.sections[{i}]") for i, s in enumerate(sections)),
        processes=(
            _count(processes["base"], f"{where}.processes.base", 1000),
            _count(processes["head"], f"{where}.processes.head", 1000),
        ),
        notes=tuple(_text(n, f"{where}.notes[{i}]") for i, n in enumerate(notes)),
    )
    _text(doc["summary"], f"{where}.summary")  # rendered again from the figures, never read
    if _flag(doc["within_noise"], f"{where}.within_noise") != explanation.within_noise:
        raise _fail(f"{where}.within_noise", "disagrees with its sections")
    return explanation


def _section(value: object, where: str) -> SectionDiff:
    doc = _object(value, _SECTION_KEYS, where)
    if doc["tool"] not in TOOLS:
        raise _fail(f"{where}.tool", f"must be one of {', '.join(TOOLS)}")
    if doc["clock"] is not None and doc["clock"] not in CLOCKS:
        raise _fail(f"{where}.clock", f"must be one of {', '.join(CLOCKS)} or null")
    segments = _object(doc["segments"], frozenset({"base", "head"}), f"{where}.segments")
    total = _object(doc["total"], frozenset({"base_s", "head_s", "delta_s", "noise_s"}),
                    f"{where}.total")  # fmt: skip
    load = _object(doc["load_s"], frozenset({"base", "head"}), f"{where}.load_s")
    changes = _list(doc["changes"], f"{where}.changes", MAX_CHANGES)
    return SectionDiff(
        tool=doc["tool"],
        clock=doc["clock"],
        base_total_s=_number(total["base_s"], f"{where}.total.base_s", none=True),
        head_total_s=_number(total["head_s"], f"{where}.total.head_s", none=True),
        noise_s=_number(total["noise_s"], f"{where}.total.noise_s", none=True),
        segments_base=_count(segments["base"], f"{where}.segments.base", 100_000),
        segments_head=_count(segments["head"], f"{where}.segments.head", 100_000),
        within_noise=_flag(doc["within_noise"], f"{where}.within_noise"),
        changes=tuple(_change(c, f"{where}.changes[{i}]") for i, c in enumerate(changes)),
        load_base_s=_number(load["base"], f"{where}.load_s.base", none=True),
        load_head_s=_number(load["head"], f"{where}.load_s.head", none=True),
    )


def _change(value: object, where: str) -> Change:
    doc = _object(value, _CHANGE_KEYS, where)
    if doc["status"] not in STATUSES:
        raise _fail(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
    shapes = _list(doc["shapes"], f"{where}.shapes", 3)

    def number(key: str) -> Any:
        return _number(doc[key], f"{where}.{key}", none=True)

    change = Change(
        name=_text(doc["name"], f"{where}.name"),
        kind=_text(doc["kind"], f"{where}.kind"),
        status=doc["status"],
        base_s=number("base_s"),
        head_s=number("head_s"),
        delta_s=number("delta_s"),
        noise_s=number("noise_s"),
        cpu_delta_s=number("cpu_delta_s"),
        device_delta_s=number("device_delta_s"),
        calls_base=_number(doc["calls_base"], f"{where}.calls_base"),
        calls_head=_number(doc["calls_head"], f"{where}.calls_head"),
        calls_changed=_flag(doc["calls_changed"], f"{where}.calls_changed"),
        device_base=_text(doc["device_base"], f"{where}.device_base", none=True),
        device_head=_text(doc["device_head"], f"{where}.device_head", none=True),
        cost_base=number("cost_base"),
        cost_head=number("cost_head"),
        shapes=tuple(_text(s, f"{where}.shapes[{i}]") for i, s in enumerate(shapes)),
    )
    _number(doc["calls_delta"], f"{where}.calls_delta")  # derived: recomputed, never read
    _flag(doc["moved"], f"{where}.moved")
    return change
