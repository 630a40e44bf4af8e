"""perf-pr's artifact, read by the trusted workflow as data. Before its results are kept
for the dashboard, each file must parse as results and be a `pull_request` run of the
one pull request and head commit that GitHub named: a run that claimed another trigger
would join main's history, one that claimed another number would show on another PR's
page.

A folder of a same-job A/B comparison says so with its manifest (`perfci.ab.manifest`):
then each file must be an A/B run of the base or head commit its manifest names, in its
rounds, and the head must be the one GitHub named.

Either kind may carry the profile diffs of its regressions: an A/B manifest in its
`explain` entry, a history-mode folder in `explain/explain.json`
(`perfci.explain.history`); both are checked before anything is read from them, and
kept for the dashboard beside the results files (`perfci.dashboard.kept`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from perfci.ab.manifest import ABResults, is_ab_folder, load_plain_results, read_ab_results
from perfci.dashboard import kept
from perfci.dashboard.naming import slug
from perfci.explain.history import Profiled, has_entry, read_entry
from perfci.results import ResultsError, RunResult

PULLS = "pulls"  # on perfci-data, next to main's runs/: pulls/<number>/<head sha>-<name>.json


@dataclass(frozen=True)
class PullResults:
    number: int
    head_sha: str
    files: tuple[tuple[Path, RunResult], ...]
    ab: ABResults | None = None  # the rounds, when the folder is a same-job A/B comparison
    profiled: Profiled | None = None  # its regressions' checked profile diffs, if any
    source: Path | None = None  # the folder read, where the diffs' raw traces are


@dataclass(frozen=True)
class Kept:
    """What `keep_pull_results` wrote: the results files, and the head's kept folder
    (`perfci.dashboard.kept`) with its raw traces, each kept or left out and why."""

    files: tuple[Path, ...]
    folder: Path | None = None
    rounds: bool = False  # the folder keeps an A/B comparison's rounds
    diffs: int = 0  # profile diffs kept
    traces: tuple[kept.Trace, ...] = ()


def read_pull_results(artifact: Path, number: int, head_sha: str) -> PullResults:
    """Every results file (*.json) directly in `artifact`, checked to be pull request
    `number`'s run of `head_sha` (a full sha), or, in an A/B folder, the rounds its
    manifest names with `head_sha` as their head; ResultsError naming the first file
    that is not as it must be."""
    if not artifact.is_dir():
        raise ResultsError(f"{artifact} is not a folder")
    if is_ab_folder(artifact):
        return _read_ab(artifact, number, head_sha)
    paths = sorted(artifact.glob("*.json"))
    if not paths:
        raise ResultsError(f"no results files (*.json) in {artifact}")
    files = []
    for path in paths:
        result = load_plain_results(path)
        run = result.run
        sha = result.commit.sha if result.commit else None
        if run.trigger != "pull_request" or run.pr_number != number or sha != head_sha:
            raise ResultsError(
                f"{path}: not a run of pull request #{number} at {head_sha[:12]} (trigger "
                f"{run.trigger!r}, pull request {run.pr_number}, commit {(sha or '?')[:12]})"
            )
        files.append((path, result))
    profiled = None
    if has_entry(artifact):
        profiled = read_entry(artifact)
        if profiled.head != head_sha:
            raise ResultsError(
                f"{artifact}: profile diffs of {profiled.head[:12]}, not of pull request "
                f"#{number} at {head_sha[:12]}"
            )
    return PullResults(number, head_sha, tuple(files), profiled=profiled, source=artifact)


def _read_ab(artifact: Path, number: int, head_sha: str) -> PullResults:
    ab = read_ab_results(artifact)
    if ab.manifest.head != head_sha:
        raise ResultsError(
            f"{artifact}: an A/B comparison of {ab.manifest.head[:12]}, not of pull request "
            f"#{number} at {head_sha[:12]}"
        )
    files = tuple((Path(f.path), f.result) for pair in ab.rounds for f in pair)
    m = ab.manifest
    profiled = None if ab.explained is None else Profiled(m.base, m.head, ab.explained)
    return PullResults(number, head_sha, files, ab, profiled, artifact)


def _kept_name(results: PullResults, path: Path) -> str:
    return f"{results.head_sha}-{slug(path.stem, 80)}.json"


def keep_pull_results(results: PullResults, data: Path) -> Kept:
    """Write the checked runs under `data` (a checkout of perfci-data) as
    pulls/<number>/<head sha>-<name>.json, re-serialised: only what perfci read is kept;
    with, for an A/B comparison or profiled regressions, the head's kept folder
    pulls/<number>/<head sha>-explain/ (`perfci.dashboard.kept`: the rounds, the diffs,
    the raw traces as JSON data within its bounds). A head kept before is written again
    with the same content. All files or none: everything is serialised and checked
    first, written beside its place, then moved into it; ResultsError (a raw trace that
    is not JSON) or OSError (the folder cannot be written) leaves nothing behind."""
    folder = data / PULLS / str(results.number)
    names = [_kept_name(results, path) for path, _ in results.files]
    if len(set(names)) < len(names):
        raise ResultsError(f"two results files would both be kept as {folder}/<same name>")
    texts = []
    for path, result in results.files:
        try:
            texts.append(result.to_json() + "\n")
        except ValueError as exc:  # a value JSON cannot spell; parsing refuses these
            raise ResultsError(f"{path}: cannot be written back ({exc})") from None
    extra, traces = _kept_folder(results)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[Path] = []
    kept_at = kept.folder_of(data / PULLS, results.number, results.head_sha)
    staging, old = (
        kept_at.with_name(f".{kept_at.name}.partial"),
        kept_at.with_name(f".{kept_at.name}.old"),
    )
    try:
        for name, text in zip(names, texts, strict=True):
            temporary = folder / f".{name}.partial"
            staged.append(temporary)
            temporary.write_text(text, encoding="utf-8")
        if extra:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for name, content in extra:
                (staging / name).write_bytes(content)
        for name, temporary in zip(names, staged, strict=True):
            temporary.replace(folder / name)
        if extra:
            if kept_at.exists():
                shutil.rmtree(old, ignore_errors=True)
                kept_at.replace(old)
            staging.replace(kept_at)
    finally:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    files = tuple(folder / name for name in names)
    diffs = len(results.profiled.explained.explanations) if results.profiled else 0
    return Kept(files, kept_at if extra else None, results.ab is not None, diffs, tuple(traces))


def _kept_folder(results: PullResults) -> tuple[list[tuple[str, bytes]], list[kept.Trace]]:
    """The head's kept folder's files, none for a folder neither A/B nor profiled."""
    ab = None
    if results.ab is not None:
        m = results.ab.manifest
        rounds = tuple(
            (_kept_name(results, Path(b.path)), _kept_name(results, Path(h.path)))
            for b, h in results.ab.rounds
        )
        ab = kept.Rounds(m.base, m.order, rounds, m.stopped, m.elapsed_s)
    p = results.profiled
    if ab is None and p is None:
        return [], []
    assert results.source is not None
    profiled = None if p is None else (p.base, p.explained)
    return kept.kept_files(results.number, results.head_sha, results.source, ab, profiled)
