"""A history-mode pull-request comparison's regressions, explained into its results folder.

perf-pr in `compare: history` compares the head's run with the store's runs of the
merge-base and its ancestors (`perfci compare`). Each `regression` verdict of that
comparison is then profiled on the commit of the baseline's nearest run and the head,
exactly as `perfci ab` profiles its own (`perfci.ab.explained.explain_regressions`: what
`perfci explain --base BASELINE --head HEAD -k NODE` does, per test function, worst
first, within one budget), and the diffs and raw traces stay under `explain/` in the
results folder, named by `explain/explain.json`: the base and head profiled and the same
`explain` entry an A/B manifest carries (`perfci.ab.diff_file`).

The trusted side (perf-comment) reads that entry back as data (`read_entry`, then each
diff through `perfci.ab.diff_file.read_diff`) and renders a why section only for a
regression its own comparison finds, against the same base commit: no verdict the
folder carries is ever read.

Run as `python -m perfci.explain.history --base REF --head REF --results DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfci.ab.diff_file import (
    FOLDER,
    ExplainEntry,
    parse_entry,
    read_diff,
    read_plain,
    versioned_json,
)
from perfci.ab.explained import Explained, explain_regressions, regressions
from perfci.ab.report import explain_line, why_sections
from perfci.compare import Comparison
from perfci.report.comment import Why
from perfci.report.markdown import code
from perfci.results import ResultsError, is_sha

ENTRY = f"{FOLDER}/explain.json"  # inside the results folder, never a top-level *.json
FORMAT = "perfci-explain"
FORMAT_VERSION = 1
MAX_ENTRY_BYTES = 1 << 20
_KEYS = frozenset({"format", "format_version", "base", "head", "explain"})


@dataclass(frozen=True)
class Profiled:
    """A results folder's profile diffs: the base and head commits profiled (full shas)
    and the checked diffs of its regressions."""

    base: str
    head: str
    explained: Explained


def write_entry(folder: Path, base: str, head: str, entry: ExplainEntry) -> Path:
    """`folder`/explain/explain.json, written beside its place first, then moved there."""
    path = folder / ENTRY
    partial = path.with_name(f".{path.name}.partial")
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "base": base,
        "head": head,
        "explain": entry.to_doc(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def has_entry(folder: Path) -> bool:
    """Whether `folder` says it holds profile diffs (an entry of any kind, even a link)."""
    return (folder / ENTRY).is_symlink() or (folder / ENTRY).exists()


def read_entry(folder: Path) -> Profiled:
    """The entry of `folder` and every diff it names, checked as an A/B manifest's are:
    exact keys, full shas, paths inside `explain/` through real folders to plain files,
    each diff exactly what perfci writes and of the test named; ResultsError with one
    line for the first thing that is not so."""
    where = str(folder / ENTRY)
    raw = read_plain(folder, ENTRY, MAX_ENTRY_BYTES)
    doc = versioned_json(raw, where, FORMAT, FORMAT_VERSION, "a profile diffs entry")
    if set(doc) != _KEYS:
        extra = sorted(set(doc) - _KEYS)
        if extra:
            raise ResultsError(f"{where}: unknown key {extra[0][:40]!r}")
        raise ResultsError(f"{where}: must have each of {', '.join(sorted(_KEYS))}")
    shas = []
    for key in ("base", "head"):
        value = doc[key]
        if not (isinstance(value, str) and is_sha(value) and len(value) == 40):
            raise ResultsError(f"{where}: {key} must be a full 40-character commit sha")
        shas.append(value)
    entry = parse_entry(doc["explain"], f"{where}: explain")
    diffs = tuple(read_diff(folder, t) for t in entry.tests)
    return Profiled(shas[0], shas[1], Explained(entry, diffs))


def whys(
    comparisons: Sequence[Comparison], base: str | None, profiled: Profiled
) -> tuple[tuple[Why, ...], str | None]:
    """The why sections of the regressions in `comparisons` (the reader's own verdicts)
    that `profiled` has a diff of, and the line on what profiling took (None when the
    reader finds no regression); none, and a line saying why, when the diffs were
    profiled against another commit than `base`, the commit of the comparison's nearest
    base run."""
    if not regressions(comparisons):
        return (), None
    if base is None or base != profiled.base:
        other = code(profiled.base[:12], in_table=False)
        return (), (
            f"Profile diffs left out: they were profiled against {other}, not the "
            "commit this comparison's base runs measured."
        )
    return why_sections(list(comparisons), profiled.explained), explain_line(profiled.explained)


def explain_history(
    cwd: Path,
    db: str | None,
    base_ref: str,
    head_ref: str,
    out: Path,
    budget_s: float,
    calls: int,
    progress: Callable[[str], None],
) -> tuple[Sequence[Comparison], Profiled] | None:
    """Compare the head's newest stored run from `base_ref` as `perfci compare --base
    --head` does, then profile each regression's test on the baseline's commit and the
    head within `budget_s`, into `out`/explain/ (see the module's docstring); the
    comparisons and what was profiled, or None when nothing regressed. ResultsError for
    a ref or store that cannot be compared, SideError for sides that cannot be set up."""
    from perfci.ab.worktree import sides
    from perfci.baseline import compare_head
    from perfci.config import load_config
    from perfci.context import resolve_commit
    from perfci.git import merge_base
    from perfci.store import open_store
    from perfci.store.queries import runs_of_commit

    config = load_config()
    head_sha, base_sha = resolve_commit(cwd, head_ref), resolve_commit(cwd, base_ref)
    if head_sha is None or base_sha is None:
        missing = "--head" if head_sha is None else "--base"
        raise ResultsError(f"{missing} names no commit git knows here")
    store = open_store(db)
    try:
        heads = runs_of_commit(store, head_sha)
        if not heads:
            raise ResultsError(f"--head {head_sha[:12]} has no stored run")
        start = merge_base(cwd, base_sha, head_sha) or base_sha
        verdicts = compare_head(heads[0], store, config, start=start, cwd=cwd)
    finally:
        store.close()
    nearest = verdicts.baseline.run
    if nearest is None or not regressions(verdicts.comparisons):
        return None
    with sides(cwd, nearest.sha, head_sha, config.ab_setup) as (base, head):
        explained = explain_regressions(
            base, head, verdicts.comparisons, out.resolve(), budget_s, calls, progress
        )
    assert explained is not None  # something regressed
    write_entry(out, base.sha, head.sha, explained.entry)
    return verdicts.comparisons, Profiled(base.sha, head.sha, explained)


def _markdown(comparisons: Sequence[Comparison], profiled: Profiled) -> str:
    sections, line = whys(comparisons, profiled.base, profiled)
    return "\n\n".join(["", *([line] if line else []), *(w.markdown for w in sections)]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: the why sections' Markdown on stdout (for the job's report),
    progress on stderr; exit 2 with one line when the comparison or the sides cannot be
    made."""
    from perfci.ab.session import parse_duration
    from perfci.explain.capture import DEFAULT_CALLS, calls_arg
    from perfci.store.engine import StoreError

    parser = argparse.ArgumentParser(
        prog="python -m perfci.explain.history",
        description="Profile each regression of a history-mode pull-request comparison "
        "(perfci compare --base REF --head REF from the store) on the commit of its "
        "baseline's nearest run and the head, worst first, within --budget, keeping the "
        f"diffs and raw traces under DIR/{FOLDER}/ named by DIR/{ENTRY}.",
    )
    parser.add_argument("--base", required=True, metavar="REF", help="the merge-base")
    parser.add_argument("--head", required=True, metavar="REF", help="the head commit")
    parser.add_argument("--results", required=True, type=Path, metavar="DIR")
    parser.add_argument("--budget", default="5m", metavar="DURATION", help="default 5m")
    parser.add_argument("--calls", type=calls_arg, default=DEFAULT_CALLS, metavar="N")
    parser.add_argument("--db", metavar="URL", help="the store (default: $PERFCI_DB)")
    args = parser.parse_args(argv)
    try:
        budget = parse_duration(args.budget)
        if not args.results.is_dir():
            raise ResultsError(f"--results {args.results} is not a folder")
        found = explain_history(
            Path.cwd(), args.db, args.base, args.head, args.results, budget, args.calls,
            _progress,
        )  # fmt: skip
    except (ValueError, StoreError) as exc:  # ResultsError, SideError, ConfigError too
        print(f"perfci: {exc}", file=sys.stderr)
        return 2
    if found is not None:
        sys.stdout.write(_markdown(*found))
    return 0


def _progress(line: str) -> None:
    print(f"perfci explain: {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
