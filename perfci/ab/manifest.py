"""The manifest of an A/B results folder, `ab.json`: which results files are each round's
base and head runs, in the order measured, the order the processes ran in (A base,
B head), why measuring stopped and the seconds it took.

`perfci ab` writes it beside the round files. A pull request's folder is read back by
the trusted side (perf-comment) as data: the manifest checked field by field (unknown
keys refused), every file it names checked to be an A/B run of the commit it claims,
no other results file beside them, and the rounds judged again from the files'
measurements (`perfci.ab.session.judge_rounds`), never from verdicts the folder carries.
An optional `explain` entry names the profile diffs of its regressions
(`perfci.ab.diff_file`), each checked before it is rendered.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.ab.diff_file import ExplainEntry, parse_entry, read_diff, versioned_json
from perfci.ab.explained import Explained
from perfci.ab.session import DECIDED, OUT_OF_TIME, TRIGGER, Outcome, judge_rounds, round_limit
from perfci.compare import ResultsFile
from perfci.config import Config
from perfci.limits import LimitError, check_text
from perfci.results import ResultsError, RunResult, is_sha
from perfci.store.importers import load_results_file

MANIFEST = "ab.json"
FORMAT = "perfci-ab"
FORMAT_VERSION = 1
MAX_ROUNDS = 1000
MAX_BYTES = 1 << 20  # a thousand rounds' names take a tenth of it
MAX_SECONDS = 7 * 24 * 3600.0
KEYS = frozenset(
    {"format", "format_version", "base", "head", "order", "rounds", "stopped", "elapsed_s"}
)
OPTIONAL = frozenset({"explain"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.json")


@dataclass(frozen=True)
class Manifest:
    base: str  # full shas of the two sides
    head: str
    order: str  # one letter a process: A base, B head
    rounds: tuple[tuple[str, str], ...]  # (base file, head file) names, a round each
    stopped: str
    elapsed_s: float
    explain: ExplainEntry | None = None  # the regressions' profile diffs, when profiled

    def to_json(self) -> str:
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "base": self.base,
            "head": self.head,
            "order": self.order,
            "rounds": [{"base": b, "head": h} for b, h in self.rounds],
            "stopped": self.stopped,
            "elapsed_s": round(self.elapsed_s, 3),
        }
        if self.explain is not None:
            doc["explain"] = self.explain.to_doc()
        return json.dumps(doc, indent=1, allow_nan=False) + "\n"


@dataclass(frozen=True)
class ABResults:
    """A checked A/B folder: its manifest and each round's base and head results."""

    manifest: Manifest
    rounds: tuple[tuple[ResultsFile, ResultsFile], ...]
    explained: Explained | None = None  # the diffs the manifest names, each checked

    def outcome(self, config: Config, min_effect: float | None = None) -> Outcome:
        """The comparison as `perfci ab` made it, judged again from the files."""
        rounds = list(self.rounds)
        m = self.manifest
        comparisons = judge_rounds(rounds, config, m.head, min_effect)
        return Outcome(rounds, m.order, comparisons, m.elapsed_s, m.stopped)


def manifest_of(
    outcome: Outcome, base: str, head: str, explain: ExplainEntry | None = None
) -> Manifest:
    """The manifest of `outcome`, whose results files all lie in one folder, with the
    `explain` entry of its regressions' diffs when they were profiled."""
    names = tuple((Path(b.path).name, Path(h.path).name) for b, h in outcome.rounds)
    manifest = Manifest(
        base, head, outcome.order, names, outcome.stopped, outcome.elapsed_s, explain
    )
    _check(manifest, "the A/B manifest")
    return manifest


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """`folder`/ab.json, written beside its place first and then moved into it."""
    path, partial = folder / MANIFEST, folder / f".{MANIFEST}.partial"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    partial.replace(path)
    return path


def is_ab_folder(folder: Path) -> bool:
    """Whether `folder` says it holds an A/B comparison (it has a manifest, of any kind)."""
    return os.path.lexists(folder / MANIFEST)


def read_ab_results(folder: Path) -> ABResults:
    """The manifest of `folder` and the rounds it names, every file checked; ResultsError
    with one line for the first thing that is not as an A/B folder must be."""
    where = str(folder / MANIFEST)
    manifest = _parse(_read(folder / MANIFEST), where)
    named = [name for pair in manifest.rounds for name in pair]
    if len(set(named)) < len(named):
        raise ResultsError(f"{where}: a results file is named in more than one place")
    others = sorted({p.name for p in folder.glob("*.json")} - {MANIFEST, *named})
    if others:
        raise ResultsError(f"{folder / others[0]}: a results file the A/B manifest does not name")
    rounds = tuple(
        (
            _round_file(folder / b, manifest.base, "base"),
            _round_file(folder / h, manifest.head, "head"),
        )
        for b, h in manifest.rounds
    )
    ids = [f.result.run.run_id for pair in rounds for f in pair]
    if len(set(ids)) < len(ids):
        raise ResultsError(f"{where}: two of its results files hold the same run")
    explained = None
    if manifest.explain is not None:
        diffs = tuple(read_diff(folder, t) for t in manifest.explain.tests)
        explained = Explained(manifest.explain, diffs)
    return ABResults(manifest, rounds, explained)


def _read(path: Path) -> bytes:
    """The manifest's bytes: a regular file (no link, FIFO or device) of at most MAX_BYTES."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ResultsError(f"{path}: not a plain file")
    if info.st_size > MAX_BYTES:
        raise ResultsError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _parse(raw: bytes, where: str) -> Manifest:
    doc = versioned_json(raw, where, FORMAT, FORMAT_VERSION, "an A/B manifest")
    unknown = sorted(set(doc) - KEYS - OPTIONAL)
    if unknown:
        raise ResultsError(f"{where}: unknown key {unknown[0][:40]!r}")
    rounds = doc.get("rounds")
    if not isinstance(rounds, list) or not 1 <= len(rounds) <= MAX_ROUNDS:
        raise ResultsError(f"{where}: rounds must be a list of 1 to {MAX_ROUNDS} rounds")
    pairs = tuple(_pair(r, f"{where}: rounds[{i}]") for i, r in enumerate(rounds))
    elapsed = doc.get("elapsed_s")
    if isinstance(elapsed, bool) or not isinstance(elapsed, int | float):
        raise ResultsError(f"{where}: elapsed_s must be a number of seconds")
    manifest = Manifest(
        _text(doc, "base", where), _text(doc, "head", where), _text(doc, "order", where),
        pairs, _text(doc, "stopped", where), float(elapsed),
        parse_entry(doc["explain"], f"{where}: explain") if "explain" in doc else None,
    )  # fmt: skip
    _check(manifest, where)
    return manifest


def _text(doc: dict[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ResultsError(f"{where}: {key} must be a string")
    try:
        check_text(value, f"{where}: {key}", 2 * MAX_ROUNDS)
    except LimitError as exc:
        raise ResultsError(str(exc)) from None
    return value


def _pair(value: object, where: str) -> tuple[str, str]:
    if not isinstance(value, dict) or set(value) != {"base", "head"}:
        raise ResultsError(f"{where} must be an object of exactly base and head")
    names = value["base"], value["head"]
    for name in names:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == MANIFEST:
            shown = name[:80] if isinstance(name, str) else name
            raise ResultsError(f"{where}: {shown!r} is not a results file's name in this folder")
    return names


def _check(m: Manifest, where: str) -> None:
    """What the fields must say together: full shas, the order two letters a round (one
    process of each side), a known reason for stopping, a plausible time."""
    for name, value in (("base", m.base), ("head", m.head)):
        if not (is_sha(value) and len(value) == 40):
            raise ResultsError(f"{where}: {name} must be a full 40-character commit sha")
    pairs = [m.order[i : i + 2] for i in range(0, len(m.order), 2)]
    if len(m.order) != 2 * len(m.rounds) or any(p not in ("AB", "BA") for p in pairs):
        raise ResultsError(
            f"{where}: order must be AB or BA for each of its {len(m.rounds)} rounds, "
            f"not {m.order[:40]!r}"
        )
    # out of rounds: after exactly as many rounds as were allowed
    if m.stopped not in (DECIDED, OUT_OF_TIME, round_limit(len(m.rounds))):
        raise ResultsError(f"{where}: stopped {m.stopped[:80]!r} is no reason perfci ab stops")
    if not (math.isfinite(m.elapsed_s) and 0 <= m.elapsed_s <= MAX_SECONDS):
        raise ResultsError(f"{where}: elapsed_s must be between 0 and {MAX_SECONDS:.0f} seconds")


def load_plain_results(path: Path) -> RunResult:
    """The results file `path` of a folder read as data: a plain file (no link), parsed
    and checked; ResultsError with one line otherwise."""
    if path.is_symlink() or not path.is_file():
        raise ResultsError(f"{path}: not a plain file")
    try:
        return load_results_file(path)
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None


def _round_file(path: Path, sha: str, side: str) -> ResultsFile:
    """One round's results file: a plain file, an A/B run of `sha`."""
    result = load_plain_results(path)
    found = result.commit.sha if result.commit else None
    if result.run.trigger != TRIGGER or found != sha:
        raise ResultsError(
            f"{path}: not an A/B run of the {side} {sha[:12]} (trigger {result.run.trigger!r}, "
            f"commit {(found or '?')[:12]})"
        )
    return ResultsFile(str(path), result)
