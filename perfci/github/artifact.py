"""perf-pr's artifact, read by the trusted workflow as data. Before its results are kept
for the dashboard, each file must parse as results and be a `pull_request` run of the
one pull request and head commit that GitHub named: a run that claimed another trigger
would join main's history, one that claimed another number would show on another PR's
page.

A folder of a same-job A/B comparison says so with its manifest (`perfci.ab.manifest`):
then each file must be an A/B run of the base or head commit its manifest names, in its
rounds, and the head must be the one GitHub named."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfci.ab.manifest import ABResults, is_ab_folder, load_plain_results, read_ab_results
from perfci.dashboard.naming import slug
from perfci.results import ResultsError, RunResult

PULLS = "pulls"  # on perfci-data, next to main's runs/: pulls/<number>/<head sha>-<name>.json


@dataclass(frozen=True)
class PullResults:
    number: int
    head_sha: str
    files: tuple[tuple[Path, RunResult], ...]
    ab: ABResults | None = None  # the rounds, when the folder is a same-job A/B comparison


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
    return PullResults(number, head_sha, tuple(files))


def _read_ab(artifact: Path, number: int, head_sha: str) -> PullResults:
    ab = read_ab_results(artifact)
    if ab.manifest.head != head_sha:
        raise ResultsError(
            f"{artifact}: an A/B comparison of {ab.manifest.head[:12]}, not of pull request "
            f"#{number} at {head_sha[:12]}"
        )
    files = tuple((Path(f.path), f.result) for pair in ab.rounds for f in pair)
    return PullResults(number, head_sha, files, ab)


def keep_pull_results(results: PullResults, data: Path) -> list[Path]:
    """Write the checked runs under `data` (a checkout of perfci-data) as
    pulls/<number>/<head sha>-<name>.json, re-serialised: only what perfci read is kept.
    A run kept before is written again with the same content. All files or none: each is
    serialised and written beside its place first, then moved into it; OSError (the
    folder cannot be written) leaves nothing behind."""
    folder = data / PULLS / str(results.number)
    names = [f"{results.head_sha}-{slug(path.stem, 80)}.json" for path, _ in results.files]
    if len(set(names)) < len(names):
        raise ResultsError(f"two results files would both be kept as {folder}/<same name>")
    texts = []
    for path, result in results.files:
        try:
            texts.append(result.to_json() + "\n")
        except ValueError as exc:  # a value JSON cannot spell; parsing refuses these
            raise ResultsError(f"{path}: cannot be written back ({exc})") from None
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[Path] = []
    try:
        for name, text in zip(names, texts, strict=True):
            temporary = folder / f".{name}.partial"
            staged.append(temporary)
            temporary.write_text(text, encoding="utf-8")
        for name, temporary in zip(names, staged, strict=True):
            temporary.replace(folder / name)
    finally:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
    return [folder / name for name in names]
