"""The pull-request page: base against head for one comparison, the PR comment's verdicts.

`verdict_rows` is the only place that knows where verdicts come from; it takes any rows
with the fields of `compare --format json` (ARCHITECTURE.md §3).

A pull request's newest head is its page: a run of the head judged against main's runs
(the store), or a same-job A/B comparison whose rounds perfci-data keeps
(`perfci.dashboard.kept`), judged again from the kept files as `perfci ab` judges them.
Either shows the why sections of its regressions from the head's kept diffs
(`perfci.dashboard.pull_explain`)."""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from perfci.ab.manifest import ABResults, Manifest, load_plain_results
from perfci.ab.session import TRIGGER
from perfci.baseline import compare_head
from perfci.compare import Comparison, ResultsFile
from perfci.config import Config, load_config
from perfci.dashboard.data import Catalog
from perfci.dashboard.kept import SUFFIX, KeptHead, read_kept
from perfci.dashboard.naming import comparison_anchor, params_label
from perfci.dashboard.pull_explain import Whys, page_whys
from perfci.results import ResultsError, canonical_params
from perfci.store import Store
from perfci.store.queries import get_run
from perfci.verdicts import ORDER, interval_text, listing_key, ratio_text

_KEPT = re.compile(rf"[0-9a-f]{{40}}{SUFFIX}")


class VerdictLike(Protocol):
    """The fields of one verdict the page shows (read-only, as frozen dataclasses give)."""

    @property
    def benchmark(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def metric(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def ratio(self) -> float | None: ...
    @property
    def ci(self) -> tuple[float, float] | None: ...
    @property
    def n_base(self) -> int: ...
    @property
    def n_head(self) -> int: ...
    @property
    def acknowledged(self) -> str | None: ...


@dataclass(frozen=True)
class VerdictRow:
    benchmark: str
    params: str
    metric: str
    unit: str
    verdict: str
    ratio: str
    ci: str
    n_base: int
    n_head: int
    acknowledged: str = ""  # the reason perfci.toml gives for an expected change
    anchor: str = ""  # the row's id, which the PR comment links to
    why: str = ""  # the id of its why section, when the head's profile diff explains it


def verdict_rows(verdicts: Sequence[VerdictLike]) -> list[VerdictRow]:
    """Rows for the page, worst first (`perfci.verdicts.ORDER`), numbers formatted as the
    PR comment shows them."""
    listed = sorted(verdicts, key=lambda v: listing_key(v.verdict, v.benchmark, v.params, v.metric))
    return [
        VerdictRow(
            benchmark=v.benchmark,
            params=params_label(v.params),
            metric=v.metric,
            unit=v.unit,
            verdict=v.verdict,
            ratio=f"x{ratio_text(v.ratio)}" if v.ratio is not None else "",
            ci=interval_text(v.ci, words=True),
            n_base=v.n_base,
            n_head=v.n_head,
            acknowledged=v.acknowledged or "",
            anchor=comparison_anchor(v.benchmark, v.params, v.metric),
        )
        for v in listed
    ]


def pull_requests(
    store: Store, catalog: Catalog, config: Config | None = None, kept: Path | None = None
) -> dict[int, dict[str, Any]]:
    """Per pull-request number: its latest run, the baseline chosen for it and the verdicts,
    from `perfci.baseline.compare_head` as the PR comment's `perfci compare` has them,
    with `config` (default: perfci.toml of the working directory, as `perfci compare`
    reads it): its minimum effects and acknowledgements.

    The head's newest run is compared with base runs found down its commit's first-parent
    chain (git's, where the working directory's checkout knows it), passing over pull
    requests' runs (the head's other runs, earlier pushes, a stacked PR's branch), so the
    base comes from main's history at the merge-base, as in the PR comment.

    `kept`, perfci-data's pulls/ folder, adds what `perfci keep` kept beside the results:
    a same-job A/B comparison newer than the head's run is the page instead, judged
    again from its kept rounds, and the head's profile diffs give the why sections."""
    config = load_config() if config is None else config
    cwd = Path.cwd()
    heads = kept_heads(kept) if kept is not None else {}
    latest: dict[int, int] = {}
    for run in sorted(catalog.runs.values(), key=lambda r: (r.started_at, r.id)):
        if run.trigger == "pull_request" and run.pr_number is not None:
            latest[run.pr_number] = run.id
    pages = {}
    for number, run_id in sorted(latest.items()):
        head = get_run(store, run_id)
        assert head is not None
        found = compare_head(head, store, config, start=head.sha, main_only=True, cwd=cwd)
        baseline = found.baseline
        base = catalog.runs[baseline.run.id] if baseline.run else None
        explained = next((k for k in heads.get(number, ()) if k.head == head.sha), None)
        whys = page_whys(found.comparisons, _anchors(found.comparisons), explained,
                         baseline.run.sha if baseline.run else None)  # fmt: skip
        summary = catalog.runs[run_id]
        pages[number] = _page(number, summary, base, baseline.reason, found.comparisons, whys)
        pages[number]["at"] = summary.started_at
    for number, candidates in sorted(heads.items()):
        ab = _newest_ab(number, candidates, kept, config) if kept is not None else None
        if ab is not None and (number not in pages or ab["at"] > pages[number]["at"]):
            pages[number] = ab
    return dict(sorted(pages.items()))


def _anchors(comparisons: Sequence[Comparison]) -> dict[tuple[str, str, str], str]:
    return {
        (c.benchmark, canonical_params(c.params), c.metric): comparison_anchor(
            c.benchmark, c.params, c.metric
        )
        for c in comparisons
    }


def _page(
    number: int,
    head: Any,
    base: Any,
    reason: str,
    comparisons: Sequence[Comparison],
    whys: Whys,
    ab: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rows = [
        dataclasses.replace(r, why=whys.by_anchor.get(r.anchor, ""))
        for r in verdict_rows(comparisons)
    ]
    return {
        "number": number,
        "head": head,
        "base": base,
        "reason": reason,
        "rows": rows,
        "counts": {name: sum(r.verdict == name for r in rows) for name in ORDER},
        "ab": ab,
        "whys": whys.sections,
        "why_line": whys.line,
        "files": whys.files,
    }


def kept_heads(pulls: Path) -> dict[int, list[KeptHead]]:
    """Every head's kept folder under perfci-data's pulls/ folder, read back and checked;
    one that fails a check is named on stderr and left out (the rest of the site is
    still built)."""
    found: dict[int, list[KeptHead]] = {}
    if not pulls.is_dir():
        return found
    for number_dir in sorted(pulls.iterdir()):
        if not (number_dir.name.isdigit() and number_dir.is_dir()) or number_dir.is_symlink():
            continue
        number = int(number_dir.name)
        for folder in sorted(number_dir.iterdir()):
            if not _KEPT.fullmatch(folder.name):
                continue
            try:
                head = read_kept(folder, number, folder.name.removesuffix(SUFFIX))
            except ResultsError as exc:
                print(f"perfci: leaving out {exc}", file=sys.stderr)
                continue
            found.setdefault(number, []).append(head)
    return found


def _newest_ab(
    number: int, candidates: Sequence[KeptHead], pulls: Path, config: Config
) -> dict[str, Any] | None:
    """The page of the newest kept A/B comparison of pull request `number`, or None."""
    pages = []
    for k in candidates:
        if k.ab is None:
            continue
        try:
            pages.append(_ab_page(k, pulls / str(number), config))
        except ResultsError as exc:
            print(f"perfci: leaving out {exc}", file=sys.stderr)
    return max(pages, key=lambda p: p["at"], default=None)


def _ab_page(k: KeptHead, folder: Path, config: Config) -> dict[str, Any]:
    """An A/B comparison's page: its kept rounds judged again from their files."""
    from perfci.report.comment import duration_text  # the comment imports the site's naming

    assert k.ab is not None
    r = k.ab
    rounds = tuple(
        (_round(folder / b, r.base, "base"), _round(folder / h, k.head, "head"))
        for b, h in r.rounds
    )
    manifest = Manifest(r.base, k.head, r.order, r.rounds, r.stopped, r.elapsed_s)
    outcome = ABResults(manifest, rounds).outcome(config)
    whys = page_whys(outcome.comparisons, _anchors(outcome.comparisons), k, r.base)
    started = datetime.fromisoformat(rounds[-1][1].result.run.started_at)
    how = {
        "base": r.base,
        "head": k.head,
        "rounds": len(rounds),
        "order": r.order,
        "stopped": r.stopped,
        "elapsed": duration_text(r.elapsed_s),
    }
    reason = f"measured in the same job as the head, interleaved, {len(rounds)} round(s)"
    page = _page(k.number, None, None, reason, outcome.comparisons, whys, how)
    page["at"] = started.astimezone(UTC).replace(tzinfo=None)
    return page


def _round(path: Path, sha: str, side: str) -> ResultsFile:
    result = load_plain_results(path)
    found = result.commit.sha if result.commit else None
    if result.run.trigger != TRIGGER or found != sha:
        raise ResultsError(f"{path}: not a kept A/B run of the {side} {sha[:12]}")
    return ResultsFile(str(path), result)
