"""perfci: continuous performance-regression checks for ML code on Apple Silicon.

The public API, pinned by a test. Names load on first use: pytest imports
`perfci.plugin` in every session, and that must not pull in SQLAlchemy or Alembic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Baseline": "perfci.compare",
    "Comparison": "perfci.compare",
    "choose_baseline": "perfci.baseline",
    "compare_metrics": "perfci.compare",
    "compare_runs": "perfci.baseline",
    "BenchmarkResult": "perfci.results",
    "CommitInfo": "perfci.results",
    "Metric": "perfci.results",
    "Outcome": "perfci.results",
    "ResultsError": "perfci.results",
    "RunInfo": "perfci.results",
    "RunResult": "perfci.results",
    "parse_run": "perfci.results",
    "Store": "perfci.store",
    "StoreError": "perfci.store",
    "open_store": "perfci.store",
    "load_results_file": "perfci.store.importers",
    "Ingested": "perfci.store.ingest",
    "ingest_runs": "perfci.store.ingest",
    "build_site": "perfci.dashboard",
    "pull_request_url": "perfci.dashboard.naming",
}

__all__ = [
    "Baseline",
    "BenchmarkResult",
    "CommitInfo",
    "Comparison",
    "Ingested",
    "Metric",
    "Outcome",
    "ResultsError",
    "RunInfo",
    "RunResult",
    "Store",
    "StoreError",
    "__version__",
    "build_site",
    "choose_baseline",
    "compare_metrics",
    "compare_runs",
    "ingest_runs",
    "load_results_file",
    "open_store",
    "parse_run",
    "pull_request_url",
]

if TYPE_CHECKING:
    from perfci.baseline import choose_baseline, compare_runs
    from perfci.compare import Baseline, Comparison, compare_metrics
    from perfci.results import (
        BenchmarkResult,
        CommitInfo,
        Metric,
        Outcome,
        ResultsError,
        RunInfo,
        RunResult,
        parse_run,
    )
    from perfci.store import Store, StoreError, open_store
    from perfci.store.importers import load_results_file
    from perfci.store.ingest import Ingested, ingest_runs


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'perfci' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
