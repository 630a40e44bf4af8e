"""`perfci compare`: a pull request's head against its base, from the store or from files."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from perfci.baseline import choose_baseline, compare_runs, head_runs
from perfci.cli.common import UsageError, add_db_option, add_verdict_options, verdict_config
from perfci.compare import (
    Baseline,
    Comparison,
    acknowledge,
    compare_metrics,
    condition_differences,
    environment_differences,
    fails,
)
from perfci.context import first_parent_chain, merge_base, resolve_commit
from perfci.environment import Conditions
from perfci.report.json import comparison_json
from perfci.report.markdown import comparison_markdown
from perfci.report.text import comparison_report
from perfci.results import RunResult, is_sha
from perfci.store import Store, open_store
from perfci.store.engine import describe_url
from perfci.store.importers import load_results_file
from perfci.store.queries import MetricRow, OutcomeRow, RunRow, runs_of_commit
from perfci.store.queries import first_parent_chain as stored_chain


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "compare",
        help="compare a head run with its base runs: verdict per benchmark and metric",
        description="With --base REF --head REF: the latest stored run of the head commit "
        "against up to 10 runs on the same machine and environment, from the merge-base of "
        "the two along the base's first-parent history. With files: every file but the last "
        "is a base run, the last is the head (perfci or pytest-benchmark JSON). A change "
        "is only called once the runs tell their run-to-run noise: 5 runs in all (or, from "
        "the store, earlier runs of the machine in another environment). Exit status "
        "1 when a regression was found and --fail-on-regression was given, 2 for bad input.",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument(
        "--base", metavar="REF", help="base commit: a sha or prefix, branch, tag or HEAD~1"
    )
    parser.add_argument(
        "--head", metavar="REF", help="head commit: a sha or prefix, branch, tag or HEAD"
    )
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    add_verdict_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def _rows(result: RunResult) -> list[MetricRow]:
    rows = []
    for b in result.benchmarks:
        for m in b.metrics:
            s = m.summarized()
            rows.append(
                MetricRow(
                    b.suite,
                    b.name,
                    b.params,
                    m.name,
                    m.unit,
                    m.direction,
                    s.n,
                    s.median,
                    s.q1,
                    s.q3,
                    m.samples,
                )
            )
    return rows


def _from_files(
    files: Sequence[Path], min_effect: float, thresholds: Mapping[str, float]
) -> tuple[Baseline, list[Comparison]]:
    if len(files) < 2:
        raise UsageError("compare needs at least two files (base... head), or --base and --head")
    results = [load_results_file(f) for f in files]
    *bases, head = results
    for path, base in zip(files, bases, strict=False):
        if base.machine.get("fingerprint") != head.machine.get("fingerprint"):
            raise UsageError(
                f"{path} was measured on other hardware ({base.machine.get('chip')}) than "
                f"{files[-1]} ({head.machine.get('chip')}): not comparable"
            )
    diffs: list[str] = []
    for base in bases:
        for d in environment_differences(base.environment, head.environment):
            if d not in diffs:
                diffs.append(d)
    outcomes = [OutcomeRow(o.suite, o.name, o.params, o.status, o.reason) for o in head.outcomes]
    comparisons = compare_metrics(
        [_rows(b) for b in bases], [_rows(head)], outcomes, min_effect, thresholds
    )
    names = ", ".join(str(f) for f in files[:-1])
    # files have no stored run: a stand-in row carries the reason to the renderers
    stand_in = RunRow(0, "", None, None, "", "", "", datetime.min, "passed", None, "", "", 0, 0, 0)
    cores = head.machine.get("cpu_cores")
    conditions = condition_differences(
        [_conditions(b) for b in bases],
        _conditions(head),
        cores if isinstance(cores, int) else None,
    )
    baseline = Baseline(stand_in, names, (stand_in,) * len(bases), tuple(diffs), tuple(conditions))
    return baseline, comparisons


def _conditions(result: RunResult) -> Conditions:
    run = result.run
    return Conditions(run.thermal_state, run.low_power_mode, run.load_average)


def _stored_runs(store: Store, ref: str, flag: str) -> list[RunRow]:
    """The stored runs of the commit `ref` names, newest first: the commit git resolves it
    to in the working directory, else the stored commit whose sha starts with it.
    UsageError (one line) when it names no commit, or several, or one without runs."""
    sha = resolve_commit(Path.cwd(), ref)
    if sha is None and not is_sha(ref.lower()):
        raise UsageError(f"{flag} {ref[:80]!r} names no commit: git does not know it here")
    runs = runs_of_commit(store, sha or ref)
    if not runs:
        named = f"{ref!r} (commit {sha[:12]})" if sha and sha != ref.lower() else repr(ref)
        raise UsageError(f"{flag} {named} has no stored run in {describe_url(store.url)}")
    if len({r.sha for r in runs}) > 1:
        raise UsageError(f"{flag} {ref!r} matches several stored commits; give more of the sha")
    return runs


def _from_store(
    args: argparse.Namespace, thresholds: Mapping[str, float]
) -> tuple[Baseline, list[Comparison], str]:
    if not args.base or not args.head:
        raise UsageError("give both --base REF and --head REF, or two results files")
    cwd = Path.cwd()
    store = open_store(args.db)
    try:
        head = _stored_runs(store, args.head, "--head")[0]
        base_sha = resolve_commit(cwd, args.base) or _stored_runs(store, args.base, "--base")[0].sha
        start = merge_base(cwd, base_sha, head.sha) or base_sha
        ancestry = first_parent_chain(cwd, start) or stored_chain(store, start)
        # a commit against itself: its newest run against its others
        heads = [head] if base_sha == head.sha else head_runs(store, head)
        baseline = choose_baseline(
            store, head, ancestry, earlier_only=False, exclude=frozenset(r.id for r in heads)
        )
        comparisons = (
            compare_runs(
                store,
                [r.id for r in baseline.runs],
                [r.id for r in heads],
                args.min_effect,
                thresholds,
                baseline.history,
                baseline.nearest,
            )
            if baseline.run
            else []
        )
    finally:
        store.close()
    return baseline, comparisons, head.sha


def handle(args: argparse.Namespace) -> int:
    config = verdict_config(args)
    if args.files and (args.base or args.head):
        raise UsageError("give either results files or --base/--head, not both")
    thresholds = dict(config.thresholds)
    head_sha: str | None = None
    if args.files:
        baseline, comparisons = _from_files(args.files, args.min_effect, thresholds)
    else:
        baseline, comparisons, head_sha = _from_store(args, thresholds)
    comparisons = acknowledge(
        comparisons, lambda label, metric: config.acknowledged(label, metric, head_sha)
    )
    render = {"text": comparison_report, "markdown": comparison_markdown, "json": comparison_json}
    print(render[args.format](baseline, comparisons))
    return 1 if fails(comparisons) and args.fail_on_regression else 0
