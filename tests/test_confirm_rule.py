"""The suspicion rule on constructed series: a clear +5% among the newest runs is suspected
at its commit, with the commits to measure again; noise alone, an old change and a change
measured again once already are not."""

from __future__ import annotations

import numpy as np
import pytest

from perfci.confirm import pair_to_measure
from perfci.stats.scan import best_split
from perfci.stats.suspect import SUSPECT_AFTER, suspect


def noisy(seed: int, n: int = 200, cv: float = 0.02) -> np.ndarray:
    return 1 + cv * np.random.default_rng(seed).standard_normal(n)


def commits(n: int, runs: int = 1) -> list[str]:
    return [f"c{i // runs:03d}" for i in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_a_clear_step_among_the_newest_runs_is_suspected_with_its_two_commits(seed: int) -> None:
    values = noisy(seed)
    values[195:] *= 1.10  # +10% at CV 2%, 5 runs after: clear, and not yet an alert's due
    pair = pair_to_measure(list(values), commits(200), 0, "lower")
    assert pair is not None
    assert pair.suspect.index == 195 and pair.suspect.kind == "regression"
    assert (pair.last_good, pair.newest) == ("c194", "c199")
    assert 1.05 < pair.suspect.ratio < 1.15
    # a suspicion lies below the alert's bar or at it, never above where it could not be
    assert abs(pair.suspect.statistic) >= pair.suspect.threshold - 2.0


def test_five_percent_with_five_after_is_suspected_where_the_detector_has_no_alert() -> None:
    # seeds where the passive detector does not yet call +5% with 5 runs after
    for seed in range(40):
        values = noisy(seed)
        values[195:] *= 1.05
        split = best_split(values)
        if split is not None and split.significant:
            continue
        pair = pair_to_measure(list(values), commits(200), 0, "lower")
        assert pair is not None, seed
        assert abs(pair.suspect.index - 195) <= 1, seed
        return
    pytest.fail("every seed was already significant")


def test_a_flat_series_is_not_suspected() -> None:
    flat = np.tile([1.0, 1.012, 0.991, 1.004, 0.995], 40)
    assert pair_to_measure(list(flat), commits(200), 0, "lower") is None


def test_noise_alone_is_rarely_suspected_at_a_look() -> None:
    # 2 of 100 here; a suspicion costs a confirmation's runs, so this stays rare
    suspected = [
        seed for seed in range(100) if pair_to_measure(list(noisy(seed)), commits(200), 0, "lower")
    ]
    assert len(suspected) <= 5, suspected


def test_an_improvement_of_throughput_and_a_slowdown_of_throughput() -> None:
    values = noisy(3)
    values[196:] /= 1.10  # throughput down: a regression when higher is better
    found = suspect(values, 0, "higher")
    assert found is not None and found.kind == "regression" and abs(found.index - 196) <= 1
    values = noisy(3)
    values[196:] *= 1.15
    found = suspect(values, 0, "higher")
    assert found is not None and found.kind == "improvement"


def test_an_older_change_is_left_to_the_detector() -> None:
    values = noisy(4)
    values[200 - SUSPECT_AFTER - 3 :] *= 1.05
    found = suspect(values, 0, "lower")
    assert found is None or found.index >= 200 - SUSPECT_AFTER


def test_runs_of_one_commit_stay_together_and_a_suspicion_is_measured_again_once() -> None:
    values = noisy(5, n=60, cv=0.02)
    values[51:] *= 1.10  # commits of 3 runs: the change is at commit 17 (run 51)
    ids = commits(60, runs=3)
    pair = pair_to_measure(list(values), ids, 0, "lower")
    assert pair is not None and pair.suspect.index == 51
    assert (pair.last_good, pair.newest) == ("c016", "c019")
    assert pair_to_measure(list(values), ids, 0, "lower", confirmed={"c016"}) is None


def test_a_segment_starts_where_it_is_told() -> None:
    values = noisy(6, n=60)
    values[:30] *= 1.5  # an old level before the segment's start
    values[55:] *= 1.10
    pair = pair_to_measure(list(values), commits(60), 30, "lower")
    assert pair is not None and pair.suspect.index == 55
