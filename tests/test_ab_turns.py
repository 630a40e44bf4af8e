"""`perfci ab` takes turns by default: each round's base and head processes run at once,
round by round in turn (perfci.measure.lockstep), and its JSON says how many benchmark
runs took turns; `--sequential` runs them one after the other, as it says too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_ab_command import perfci, slower_kernel_repo


@pytest.mark.slow
@pytest.mark.parametrize("sequential", [False, True])
def test_the_ab_json_says_how_the_sides_were_interleaved(tmp_path: Path, sequential: bool) -> None:
    repo = slower_kernel_repo(tmp_path / "repo")
    args = ["ab", "--base", "HEAD~1", "--head", "HEAD", "--min-rounds", "2", "--max-rounds", "2"]
    done = perfci(repo, *args, *(["--sequential"] if sequential else []), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    doc = json.loads(done.stdout)
    turns = doc["ab"]["turns"]
    assert doc["ab"]["rounds"] == 2 and turns["lost"] == [], doc["ab"]
    # two benchmarks a round, two rounds: each run timed in turn, or none of them
    assert turns == {"in_turn": 0 if sequential else 4, "alone": 0, "lost": []}, turns
    said = "process by process" if sequential else "round by round in turn"
    assert said in doc["baseline"]["reason"], doc["baseline"]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_affinity_pins_both_sides_and_bad_lists_are_one_line(tmp_path: Path) -> None:
    repo = slower_kernel_repo(tmp_path / "repo")
    cpu = str(max(os.sched_getaffinity(0)))
    args = ["ab", "--base", "HEAD~1", "--head", "HEAD", "--min-rounds", "1", "--max-rounds", "1"]
    done = perfci(repo, *args, "--affinity", cpu, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["ab"]["affinity"] == [int(cpu)]
    for bad in ("x", "3-1", "100000"):
        refused = perfci(repo, *args, "--affinity", bad)
        assert refused.returncode == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "--affinity" in refused.stderr
