"""The pull-request page: base against head for one comparison, the PR comment's verdicts.

`verdict_rows` is the only place that knows where verdicts come from; it takes any rows
with the fields of `compare --format json` (ARCHITECTURE.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from perfci.baseline import compare_head
from perfci.config import Config, load_config
from perfci.dashboard.data import Catalog
from perfci.dashboard.naming import comparison_anchor, params_label
from perfci.store import Store
from perfci.store.queries import get_run
from perfci.verdicts import ORDER, interval_text, listing_key, ratio_text


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
    store: Store, catalog: Catalog, config: Config | None = None
) -> dict[int, dict[str, Any]]:
    """Per pull-request number: its latest run, the baseline chosen for it and the verdicts,
    from `perfci.baseline.compare_head` as the PR comment's `perfci compare` has them,
    with `config` (default: perfci.toml of the working directory, as `perfci compare`
    reads it): its minimum effects and acknowledgements.

    The head's newest run is compared with base runs found down its commit's first-parent
    chain (git's, where the working directory's checkout knows it), passing over pull
    requests' runs (the head's other runs, earlier pushes, a stacked PR's branch), so the
    base comes from main's history at the merge-base, as in the PR comment."""
    config = load_config() if config is None else config
    cwd = Path.cwd()
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
        rows = verdict_rows(found.comparisons)
        pages[number] = {
            "number": number,
            "head": catalog.runs[run_id],
            "base": base,
            "reason": baseline.reason,
            "rows": rows,
            "counts": {name: sum(r.verdict == name for r in rows) for name in ORDER},
        }
    return pages
