"""`perfci run`: run suites under pytest, store the run, compare it with its baseline."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfci import pytest_args
from perfci.baseline import compare_head
from perfci.cli import dashboard
from perfci.cli.common import (
    UsageError,
    add_commit_options,
    add_db_option,
    add_verdict_options,
    apply_commit_options,
    verdict_config,
)
from perfci.compare import fails
from perfci.measure.profiles import DEFAULT_PROFILE, PROFILES
from perfci.report.text import comparison_report, run_summary
from perfci.store import open_store
from perfci.store.engine import describe_url
from perfci.store.importers import load_results_file
from perfci.store.ingest import ingest_runs
from perfci.store.queries import get_run, run_metrics, run_outcomes

RESULTS_DIR = Path(".perfci/results")
# pytest's exit statuses (pytest.ExitCode) when it ends before the plugin writes results.
_PYTEST_EXITS = {
    2: "interrupted",
    3: "an internal error: see its output above",
    4: "a usage error: see its message above",
}


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run the suites under pytest, store the run, print it and its comparison",
        description="Runs pytest (default target: ./suites) with the perfci plugin in a child "
        "process, keeps the results file under .perfci/results/, stores the run and compares "
        "it with the latest earlier run of this commit or its nearest ancestor on the same "
        "machine and environment. Arguments after -- go to pytest. Exit status 1 when a "
        "benchmark failed, or a regression was found and --fail-on-regression was given.",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=DEFAULT_PROFILE,
        help="workload sizes and pytest-benchmark's rounds (the plugin's --perfci-profile; "
        "benchmark options after -- win)",
    )
    add_verdict_options(parser)
    add_commit_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _targets(args: list[str]) -> list[str]:
    try:
        return pytest_args.targets(args, Path.cwd())
    except ValueError as exc:
        raise UsageError(f"{exc}: name the tests to run after --") from None


def _pytest_command(args: argparse.Namespace, results: Path) -> list[str]:
    targets = args.pytest_args or []
    if not _targets(targets):
        if not Path("suites").is_dir():
            raise UsageError(
                "no ./suites folder here: run perfci in a repository with one, or name the "
                "tests to run after --"
            )
        targets = [*targets, "suites"]
    plugins = []
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        plugins = ["-p", "perfci.plugin", "-p", "pytest_benchmark.plugin"]
    return [
        sys.executable,
        "-m",
        "pytest",
        *plugins,
        f"--perfci-json={results}",
        f"--perfci-profile={args.profile}",  # the plugin adds the profile's rounds
        *targets,
    ]


def handle(args: argparse.Namespace) -> int:
    config = verdict_config(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    results = RESULTS_DIR / f"run-{stamp}.json"
    command = _pytest_command(args, results)
    print("$ " + " ".join(command[1:]), flush=True)
    exit_code = subprocess.run(command, check=False).returncode
    if not results.exists():
        meaning = _PYTEST_EXITS.get(exit_code, "see its output above")
        raise UsageError(f"pytest exited with status {exit_code} ({meaning}) and wrote no results")
    result = apply_commit_options(load_results_file(results), args, str(results))

    store = open_store(args.db)
    try:
        (stored,) = ingest_runs(store, [result])
        head = get_run(store, stored.run_id)
        assert head is not None
        print()
        print(run_summary(head, run_metrics(store, head.id), run_outcomes(store, head.id)))
        verdicts = compare_head(head, store, config, min_effect=args.min_effect, cwd=Path.cwd())
        print()
        print(comparison_report(verdicts.baseline, verdicts.comparisons))
    finally:
        store.close()
    print(f"\nStored run {head.id} in {describe_url(store.url)}; results file {results}")
    index, _, _ = dashboard.build(
        args.db, dashboard.DEFAULT_OUT, dashboard.default_repo_url(), None
    )
    print(f"Dashboard: {index.resolve()}")
    if exit_code not in (0, 5):
        return 1
    return 1 if fails(verdicts.comparisons) and args.fail_on_regression else 0
