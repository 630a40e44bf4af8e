"""The pull-request page: base against head for one comparison, the PR comment's verdicts.

`verdict_rows` is the only place that knows where verdicts come from; it takes any rows
with the fields of `compare --format json` (ARCHITECTURE.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from perfci.baseline import choose_baseline, compare_runs
from perfci.dashboard.data import Catalog
from perfci.dashboard.naming import params_label
from perfci.store import Store
from perfci.store.queries import first_parent_chain, get_run

ORDER = ("regression", "error", "inconclusive", "improvement", "missing", "new", "unchanged")


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


def verdict_rows(verdicts: Sequence[VerdictLike]) -> list[VerdictRow]:
    """Rows for the page, worst first, numbers formatted as the PR comment shows them."""
    rows = [
        VerdictRow(
            benchmark=v.benchmark,
            params=params_label(v.params),
            metric=v.metric,
            unit=v.unit,
            verdict=v.verdict,
            ratio="" if v.ratio is None else f"x{v.ratio:.3f} ({(v.ratio - 1) * 100:+.1f}%)",
            ci="" if v.ci is None else f"{v.ci[0]:.3f} to {v.ci[1]:.3f}",
            n_base=v.n_base,
            n_head=v.n_head,
        )
        for v in verdicts
    ]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r.verdict, len(ORDER)), r.benchmark, r.params))


def pull_requests(store: Store, catalog: Catalog) -> dict[int, dict[str, Any]]:
    """Per pull-request number: its latest run, the baseline chosen for it and the verdicts.

    As in the PR comment, the base comes from main's history: pull requests' runs (the
    head itself, earlier pushes, a stacked PR's branch) are passed over on the way down
    the first-parent chain to the merge-base."""
    latest: dict[int, int] = {}
    for run in sorted(catalog.runs.values(), key=lambda r: (r.started_at, r.id)):
        if run.trigger == "pull_request" and run.pr_number is not None:
            latest[run.pr_number] = run.id
    pages = {}
    for number, run_id in sorted(latest.items()):
        head = get_run(store, run_id)
        assert head is not None
        ancestry = first_parent_chain(store, head.sha)
        baseline = choose_baseline(store, head, ancestry, main_only=True)
        base = catalog.runs[baseline.run.id] if baseline.run else None
        verdicts = (
            compare_runs(
                store,
                [r.id for r in baseline.runs],
                [head.id],
                history_run_ids=baseline.history,
                nearest_base=baseline.nearest,
            )
            if base
            else []
        )
        rows = verdict_rows(verdicts)
        pages[number] = {
            "number": number,
            "head": catalog.runs[run_id],
            "base": base,
            "reason": baseline.reason,
            "rows": rows,
            "counts": {name: sum(r.verdict == name for r in rows) for name in ORDER},
        }
    return pages
