"""The bisection's search on its own, with steps that answer from a known history: the
first bad commit of every position found within ⌈log2 n⌉ steps, skipped commits stepped
around, and an undecided step stopping the search with the range narrowed so far."""

from __future__ import annotations

import math

import pytest

from perfci.bisect.history import CommitRef, Range
from perfci.bisect.search import Bisection, StepResult, search, steps_needed
from perfci.bisect.step import Selection, SelectionError, verdict_of
from perfci.compare import Comparison


def _range(n: int) -> Range:
    return Range(
        CommitRef("g" * 40, "good"),
        tuple(CommitRef(f"{i:02d}" + "a" * 38, f"c{i}") for i in range(n)),
    )


def _bisect(n: int, first_bad: int, broken: frozenset[int] = frozenset()) -> Bisection:
    commits = _range(n)
    index = {c.sha: i for i, c in enumerate(commits.commits)}

    def step(commit: CommitRef, needed: int) -> StepResult:
        i = index[commit.sha]
        assert needed >= 1
        if i in broken:
            return StepResult("skip", "fails to import")
        return StepResult("bad" if i >= first_bad else "good", "measured")

    return search(commits, step, lambda done: None)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 20, 33])
def test_every_first_bad_commit_is_found_within_log2_n_steps(n: int) -> None:
    for first_bad in range(n):
        found = _bisect(n, first_bad)
        assert found.first_bad == _range(n).commits[first_bad]
        assert len(found.measured) <= math.ceil(math.log2(n)) if n > 1 else found.tried == []
        assert found.reason == "" and found.skipped == []
    assert steps_needed(n) == (math.ceil(math.log2(n)) if n > 1 else 0)


def test_a_skipped_commit_is_stepped_around() -> None:
    found = _bisect(8, 5, broken=frozenset({3}))
    assert found.first_bad is not None and found.first_bad.subject == "c5"
    assert [s.commit.subject for s in found.skipped] == ["c3"]
    assert found.tried[0].commit.subject == "c3"  # the middle first, then a neighbour


def test_only_skipped_commits_between_the_ends_name_the_candidates() -> None:
    found = _bisect(4, 2, broken=frozenset({1}))
    assert found.first_bad is None
    assert (found.good.subject, found.bad.subject) == ("c0", "c2")
    assert f"one of 01{'a' * 10} or 02{'a' * 10}" in found.reason


def test_an_undecided_step_stops_with_the_range_so_far() -> None:
    commits = _range(8)
    answers = iter(["good", "undecided"])

    def step(commit: CommitRef, needed: int) -> StepResult:
        kind = next(answers)
        return StepResult(kind, "inconclusive ×1.2 [0.9, 1.6]")  # type: ignore[arg-type]

    found = search(commits, step, lambda done: None)
    assert found.first_bad is None and len(found.tried) == 2
    assert (found.good.subject, found.bad.subject) == ("c3", "c7")
    assert found.reason.startswith(f"{found.tried[1].commit.sha[:12]} undecided: inconclusive")


def _comparison(
    verdict: str,
    benchmark: str = "suites/s::test_a",
    metric: str = "latency",
    ci: tuple[float, float] = (1.2, 1.9),
    direction: str = "lower",
    noise: str = "paired",
    ratio: float = 1.5,
) -> Comparison:
    return Comparison(
        benchmark, {}, metric, "s", direction, verdict,  # type: ignore[arg-type]
        ratio, ci, 0.01, 20, 20, "paired over 3 rounds", noise=noise,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("verdicts", "kind"),
    [
        (["regression", "unchanged"], "bad"),
        (["unchanged", "unchanged"], "good"),
        (["unchanged", "missing"], "skip"),
        (["error"], "skip"),
        (["unchanged", "inconclusive"], "undecided"),
        (["improvement"], "undecided"),  # the other way: not the change sought
    ],
)
def test_a_steps_verdict_comes_from_the_selected_metric(verdicts: list[str], kind: str) -> None:
    comparisons = [_comparison(v, f"suites/s::test_{i}") for i, v in enumerate(verdicts)]
    # other metrics and benchmarks new at the candidate do not decide
    comparisons += [_comparison("inconclusive", metric="cold_start"), _comparison("new", "x::y")]
    assert verdict_of(Selection(("suites",)), comparisons).kind == kind


@pytest.mark.parametrize(
    ("ci", "ratio", "direction", "kind", "step"),
    [
        # m = 4%: the change sought is 8.2%, ruled out under 1.04^1.25 = 1.0503
        ((0.959, 1.022), None, "lower", "regression", "good"),  # not unchanged within ±4%
        ((0.959, 1.048), None, "lower", "regression", "good"),
        ((0.98, 1.055), None, "lower", "regression", "undecided"),  # 5/8 of it possible
        ((0.99, 1.049), 1.042, "lower", "regression", "undecided"),  # past the split
        ((0.955, 1.05), None, "higher", "regression", "good"),  # throughput: a drop ruled out
        ((0.93, 1.02), None, "higher", "regression", "undecided"),
        ((0.97, 1.10), None, "lower", "improvement", "good"),  # a speed-up sought, ruled out
        ((0.94, 1.02), None, "lower", "improvement", "undecided"),
    ],
)
def test_an_interval_that_rules_out_the_change_sought_makes_the_commit_good(
    ci: tuple[float, float], ratio: float | None, direction: str, kind: str, step: str
) -> None:
    selection = Selection(("suites",), kind=kind, min_effect=0.04)
    middle = ratio if ratio is not None else (ci[0] * ci[1]) ** 0.5
    found = verdict_of(
        selection, [_comparison("inconclusive", ci=ci, direction=direction, ratio=middle)]
    )
    assert found.kind == step


def test_an_interval_on_assumed_noise_rules_out_nothing() -> None:
    selection = Selection(("suites",), min_effect=0.04)
    guessed = _comparison("inconclusive", ci=(0.99, 1.01), noise="assumed")
    assert verdict_of(selection, [guessed]).kind == "undecided"


def test_an_alerts_bisection_judges_its_own_benchmark_only() -> None:
    selection = Selection((), kind="improvement", benchmark=("suites/s::test_1", "{}"))
    comparisons = [
        _comparison("inconclusive", "suites/s::test_0"),
        _comparison("improvement", "suites/s::test_1"),
    ]
    assert verdict_of(selection, comparisons).kind == "bad"


def test_a_selection_that_measures_nothing_of_the_metric_is_refused() -> None:
    with pytest.raises(SelectionError, match="measure no latency"):
        verdict_of(Selection(("suites",)), [_comparison("unchanged", metric="memory")])
