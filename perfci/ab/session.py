"""One same-job A/B comparison: base and head measured in fresh pytest processes, one run
a process, alternating in a counterbalanced order (ABBA BAAB …), until every metric is
decided or the rounds or the time run out.

A round is one base run and one head run, side by side in time: by default both processes
run at once and take turns round by round (`perfci.measure.lockstep`), so that
what moves the machine's speed, from a shared core's tens of milliseconds to heat and
background jobs, falls on both sides alike and cancels in their ratio
(`perfci.ab.paired`); with `turns` off they run one after the other. After
`min_rounds`, only the benchmarks still undecided run again, named by their test
functions' node ids. The runs are returned to the caller, which
stores them (trigger `ab`) only once the comparison is complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfci import pytest_args
from perfci.ab.paired import compare_rounds, undecided
from perfci.ab.worktree import Side, rerun_selection
from perfci.compare import Comparison, ResultsFile
from perfci.config import Config
from perfci.measure import lockstep
from perfci.results import canonical_params
from perfci.store.importers import load_results_file

PATTERN = "ABBABAAB"  # which side opens each round: A = base, B = head
TRIGGER = "ab"
DECIDED = "every metric decided"  # why measuring stopped, as Outcome.stopped says it
OUT_OF_TIME = "the time budget"


def round_limit(rounds: int) -> str:
    """Why measuring stopped when `rounds` rounds were the most allowed."""
    return f"the {rounds}-round limit"


class ABError(ValueError):
    """A side could not be measured: one line, nothing stored."""


@dataclass(frozen=True)
class Plan:
    """What to measure and for how long."""

    targets: tuple[str, ...]  # pytest arguments: paths, node ids, options
    profile: str
    min_rounds: int
    max_rounds: int
    budget_s: float
    min_effect: float | None = None
    # which comparisons must be decided before measuring stops (None: every gating one)
    decides: Callable[[Comparison], bool] | None = None
    turns: bool = True  # both sides at once, round by round in turn; else one after the other
    # the CPUs both sides' processes run on (Linux), None for wherever the OS places them
    affinity: frozenset[int] | None = None


@dataclass
class Outcome:
    """The rounds measured (base file, head file each), the order the processes ran in,
    and the verdicts on all of them."""

    rounds: list[tuple[ResultsFile, ResultsFile]] = field(default_factory=list)
    order: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped: str = ""  # why measuring ended: decided, max rounds, budget
    # what taking turns achieved: benchmark runs timed in turn, timed alone, and why turns
    # ended early in a process (empty when the sides ran one after the other)
    in_turn: int = 0
    alone: int = 0
    turns_lost: list[str] = field(default_factory=list)
    affinity: frozenset[int] | None = None  # the CPUs both sides ran on, if pinned

    def rounds_of(self, c: Comparison) -> int:
        """How many rounds measured the benchmark of `c` on both sides."""
        suite, _, name = c.benchmark.partition("::")
        return sum(
            any(b.suite == suite and b.name == name for b in head.result.benchmarks)
            and any(b.suite == suite and b.name == name for b in base.result.benchmarks)
            for base, head in self.rounds
        )


def parse_duration(text: str) -> float:
    """Seconds from '90s', '20m', '1h30m' or a bare number of seconds; ValueError for
    anything else or a duration that is not positive."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    total, number = 0.0, ""
    for char in text.strip().lower():
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total, number = total + float(number) * units[char], ""
        else:
            raise ValueError(f"not a duration: {text!r} (e.g. 90s, 20m, 1h30m)")
    if number:
        total += float(number)
    if not total > 0:
        raise ValueError(f"not a positive duration: {text!r}")
    return total


def _command(python: str, results: Path, profile: str, selection: Sequence[str]) -> list[str]:
    plugins = []
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        plugins = ["-p", "perfci.plugin", "-p", "pytest_benchmark.plugin"]
    return [
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",  # the sides' checkouts stay as git has them
        *plugins,
        f"--perfci-json={results}",
        f"--perfci-profile={profile}",
        *selection,
    ]


def _measure(side: Side, results: Path, plan: Plan, selection: Sequence[str]) -> ResultsFile:
    """One fresh process of `side`: its results, as an A/B run of its commit."""
    command = _command(side.python, results, plan.profile, selection)
    done = subprocess.run(
        command, cwd=side.root, env=side.env, capture_output=True, text=True, check=False,
        preexec_fn=_pinning(plan),
    )  # fmt: skip
    return _collect(side, results, done.returncode, done.stdout + done.stderr)


def _pinning(plan: Plan) -> Callable[[], None] | None:
    """What a side's process runs before pytest: its CPUs set, when the plan names them."""
    cpus = plan.affinity
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _measure_in_turn(
    sides: Sequence[tuple[Side, Path]], lead: str, plan: Plan, selection: Sequence[str]
) -> tuple[list[ResultsFile], list[lockstep.Report]]:
    """Both sides' processes at once, joined by a socket, taking turns round by round;
    `lead`: the name of the side that times the first round."""
    ends = socket.socketpair()
    running = []
    with contextlib.ExitStack() as stack:
        for (side, results), end in zip(sides, ends, strict=True):
            env = {
                **side.env,
                lockstep.FD_ENV: str(end.fileno()),
                lockstep.LEAD_ENV: "1" if side.name == lead else "0",
            }
            # a file, not a pipe: a pipe left unread could stall a side in mid-turn
            log = stack.enter_context(tempfile.TemporaryFile())
            command = _command(side.python, results, plan.profile, selection)
            process = subprocess.Popen(
                command, cwd=side.root, env=env, pass_fds=[end.fileno()], stdout=log,
                stderr=log, preexec_fn=_pinning(plan),
            )  # fmt: skip
            running.append((side, results, process, log))
            end.close()
        try:
            codes = [process.wait() for _, _, process, _ in running]
        finally:  # interrupted: neither side outlives the comparison
            for _, _, process, _ in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        reports = [r for _, results, _, _ in running if (r := lockstep.read_report(results))]
        for _, results, _, _ in running:
            lockstep.sidecar(results).unlink(missing_ok=True)
        files = []
        for (side, results, _, log), code in zip(running, codes, strict=True):
            log.seek(0)
            files.append(_collect(side, results, code, log.read().decode(errors="replace")))
    return files, reports


def _collect(side: Side, results: Path, code: int, output: str) -> ResultsFile:
    """A side's results file, checked and rewritten as the A/B run it is stored as."""
    if not results.is_file():
        last = output.strip().splitlines()[-1:] or ["no output"]
        raise ABError(
            f"the {side.name} side ({side.sha[:12]}) wrote no results: pytest exited "
            f"{code}: {last[0][:200]}"
        )
    result = load_results_file(results)
    commit = result.commit
    if commit is None or commit.sha != side.sha:
        raise ABError(f"the {side.name} side's results are not of {side.sha[:12]}")
    run = dataclasses.replace(result.run, trigger=TRIGGER, pr_number=None)
    result = dataclasses.replace(result, run=run)
    # The kept file is the run as stored: under a pull request's job the plugin wrote
    # it as that pull request's run, which a kept A/B round must never pass for.
    partial = results.with_name(f".{results.name}.partial")
    partial.write_text(result.to_json() + "\n", encoding="utf-8")
    partial.replace(results)
    return ResultsFile(str(results), result)


def run_ab(
    base: Side,
    head: Side,
    plan: Plan,
    config: Config,
    out: Path,
    progress: Callable[[str], None],
) -> Outcome:
    """Measure rounds until every gating metric is decided, `plan.max_rounds` are done, or
    the next round would not fit the budget; each process's results file lands in `out`."""
    started = time.monotonic()
    outcome = Outcome(affinity=plan.affinity)
    selection: list[str] = list(plan.targets)
    durations: list[float] = []
    for index in range(plan.max_rounds):
        opener = PATTERN[index % len(PATTERN)]
        pair: dict[str, ResultsFile] = {}
        round_started = time.monotonic()
        paths = [(side, out / f"round-{index + 1:02d}-{side.name}.json") for side in (base, head)]
        if plan.turns:
            lead = base.name if opener == "A" else head.name
            files, reports = _measure_in_turn(paths, lead, plan, selection)
            pair = {side.name: f for (side, _), f in zip(paths, files, strict=True)}
            _count_turns(outcome, reports)
            outcome.order += opener + ("B" if opener == "A" else "A")
        else:
            for letter in (opener, "B" if opener == "A" else "A"):
                side, path = paths[0] if letter == "A" else paths[1]
                pair[side.name] = _measure(side, path, plan, selection)
                outcome.order += letter
        durations.append(time.monotonic() - round_started)
        outcome.rounds.append((pair["base"], pair["head"]))
        outcome.comparisons = judge_rounds(outcome.rounds, config, head.sha, plan.min_effect)
        outcome.elapsed_s = time.monotonic() - started
        left = plan.budget_s - outcome.elapsed_s
        pending = [c for c in undecided(outcome.comparisons) if not plan.decides or plan.decides(c)]
        progress(
            f"round {index + 1}/{plan.max_rounds}: {len(pending)} metric(s) undecided, "
            f"{max(left, 0):.0f} s of the budget left"
        )
        if index + 1 < plan.min_rounds:
            continue
        if not pending:
            outcome.stopped = DECIDED
            break
        if left < max(durations[-3:]):
            outcome.stopped = OUT_OF_TIME
            break
        selection = _reruns(pending, plan.targets)
    else:
        outcome.stopped = round_limit(plan.max_rounds)
    return outcome


def _count_turns(outcome: Outcome, reports: Sequence[lockstep.Report]) -> None:
    """Add one round's turn reports (one a side; a benchmark counts once, from base's)."""
    if reports:
        outcome.in_turn += len(reports[0].paired)
        outcome.alone += len(reports[0].alone)
    for report in reports:
        if report.lost and report.lost not in outcome.turns_lost:
            outcome.turns_lost.append(report.lost)


def judge_rounds(
    rounds: Sequence[tuple[ResultsFile, ResultsFile]],
    config: Config,
    commit: str | None,
    min_effect: float | None = None,
) -> list[Comparison]:
    """The verdicts on `rounds` (each round's base and head results files, in the order
    measured), as `run_ab` gives them after every round and the trusted comment path
    again from a kept A/B folder: paired (`compare_rounds`), with `commit`'s
    acknowledgements; a benchmark that failed on one side only is an `error` with that
    side's reason."""
    bases, heads = [b for b, _ in rounds], [h for _, h in rounds]
    comparisons = compare_rounds(
        [(b.metrics(), h.metrics()) for b, h in rounds],
        config,
        commit=commit,
        min_effect=min_effect,
        head_outcomes=[o for h in heads for o in h.outcomes() if o.status == "error"],
    )
    failed_base, failed_head = _failures(bases), _failures(heads)
    return [_with_reason(c, failed_base, failed_head) for c in comparisons]


def _failures(files: Iterable[ResultsFile]) -> dict[tuple[str, str, str], str]:
    return {
        (o.suite, o.name, canonical_params(o.params)): o.reason
        for f in files
        for o in f.outcomes()
        if o.status == "error"
    }


def _with_reason(
    c: Comparison, base: dict[tuple[str, str, str], str], head: dict[tuple[str, str, str], str]
) -> Comparison:
    suite, _, name = c.benchmark.partition("::")
    key = (suite, name, canonical_params(c.params))
    if c.verdict == "new" and key in base:
        return dataclasses.replace(c, verdict="error", note=f"failed in base: {base[key]}")
    if c.verdict == "error" and key in head:
        return dataclasses.replace(c, note=f"failed in head: {head[key]}")
    return c


def _reruns(pending: Sequence[Comparison], targets: Sequence[str]) -> list[str]:
    """The node ids of the undecided benchmarks' test functions, after the pytest options
    the user gave (the paths and node ids they gave are dropped: these node ids select)."""
    options, _ = pytest_args.split(targets)
    nodes = dict.fromkeys(rerun_selection(*c.benchmark.split("::", 1)) for c in pending)
    return [*options, *nodes]
