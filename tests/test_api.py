"""The public API is what `perfci/__init__.py` re-exports, and nothing else."""

from __future__ import annotations

import subprocess
import sys

import perfci

PUBLIC = {
    "build_site",
    "pull_request_url",
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
    "choose_baseline",
    "compare_metrics",
    "compare_runs",
    "ingest_runs",
    "load_results_file",
    "open_store",
    "parse_run",
}


def test_the_public_api_is_pinned() -> None:
    assert set(perfci.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(perfci, name) is not None


def test_importing_perfci_loads_no_database_layer() -> None:
    code = "import perfci, sys; print('sqlalchemy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
