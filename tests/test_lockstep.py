"""Rounds in turn: two real pytest processes joined by a socket, as `perfci ab` starts
them. Every benchmarked call appends its side's letter to one shared log, so the order
the rounds ran in is read off the log, not inferred from timings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from perfci.measure.lockstep import FD_ENV, LEAD_ENV, read_report

BENCH = """
import os
import time

import pytest

def _mark():
    time.sleep(0.012)  # longer than a turn: every round passes the turn
    fd = os.open(os.environ["ORDER_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, os.environ["SIDE"].encode())
    os.close(fd)

@pytest.mark.parametrize("n", [1, 2])
def test_pedantic(benchmark, n):
    benchmark.pedantic(_mark, rounds=6, iterations=1)

def test_plain(benchmark):
    benchmark(_mark)
"""


def _project(root: Path, source: str = BENCH) -> Path:
    root.mkdir()
    (root / "test_bench.py").write_text(textwrap.dedent(source))
    return root


def _pair(
    tmp_path: Path, a: Path, b: Path, lead: str = "a"
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run both sides at once, joined by a socket pair; the order log in tmp_path."""
    ends = dict(zip("ab", socket.socketpair(), strict=True))
    procs = {}
    for side, root in (("a", a), ("b", b)):
        sock = ends[side]
        env = {
            **os.environ,
            FD_ENV: str(sock.fileno()),
            LEAD_ENV: "1" if side == lead else "0",
            "SIDE": side,
            "ORDER_LOG": str(tmp_path / "order.log"),
        }
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--perfci-json={root / 'results.json'}",
            # pytest-benchmark's own rounds for the plain call: few, and fixed
            "--benchmark-min-rounds=5", "--benchmark-max-time=0", "--benchmark-warmup=off",
        ]  # fmt: skip
        procs[side] = subprocess.Popen(
            command, cwd=root, env=env, pass_fds=[sock.fileno()], text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        sock.close()
    done = {}
    for side, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        done[side] = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    return done


def _order(tmp_path: Path) -> str:
    return (tmp_path / "order.log").read_text()


def test_identical_sides_take_turns_round_by_round(tmp_path: Path) -> None:
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    done = _pair(tmp_path, a, b, lead="b")
    assert all(p.returncode == 0 for p in done.values()), done
    order = _order(tmp_path)
    # pedantic: 6 rounds a side, the leader first; the plain call: pytest-benchmark
    # calibrates side by side (untimed, any order), then its timed rounds alternate
    assert order.startswith("ba" * 6 + "ba" * 6), order
    for side in (a, b):
        report = read_report(side / "results.json")
        assert report is not None and not report.lost, report
        assert len(report.paired) == 3 and not report.alone, report
        doc = json.loads((side / "results.json").read_text())
        assert len(doc["benchmarks"]) == 3, doc["benchmarks"]


def test_a_benchmark_one_side_lacks_is_timed_alone(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    only_plain = BENCH.replace(
        '@pytest.mark.parametrize("n", [1, 2])', '@pytest.mark.parametrize("n", [2])'
    )
    b = _project(tmp_path / "b", only_plain)
    done = _pair(tmp_path, a, b)
    assert all(p.returncode == 0 for p in done.values()), done
    order = _order(tmp_path)
    # n=1 exists only on a: its 6 rounds alone, then n=2 in turn
    assert order.startswith("a" * 6 + "ab" * 6), order
    report_a, report_b = read_report(a / "results.json"), read_report(b / "results.json")
    assert report_a is not None and report_b is not None
    assert report_a.alone == [] and len(report_a.paired) == 2, report_a
    assert not report_a.lost and not report_b.lost


def test_a_benchmark_skipped_on_one_side_does_not_hold_the_other(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    skipping = BENCH.replace(
        "    benchmark.pedantic(", '    if n == 1: pytest.skip("not here")\n    benchmark.pedantic('
    )
    b = _project(tmp_path / "b", skipping)
    done = _pair(tmp_path, a, b)
    assert all(p.returncode == 0 for p in done.values()), done
    assert _order(tmp_path).startswith("a" * 6 + "ab" * 6), _order(tmp_path)
    report_a = read_report(a / "results.json")
    assert report_a is not None and len(report_a.alone) == 1 and not report_a.lost, report_a


def test_a_side_that_dies_leaves_the_other_to_finish_alone(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    dying = BENCH.replace(
        "    benchmark.pedantic(", "    if n == 2: os._exit(3)\n    benchmark.pedantic("
    )
    b = _project(tmp_path / "b", dying)
    done = _pair(tmp_path, a, b)
    assert done["a"].returncode == 0 and done["b"].returncode == 3, done
    report = read_report(a / "results.json")
    assert report is not None and "ended" in report.lost, report
    doc = json.loads((a / "results.json").read_text())
    assert len(doc["benchmarks"]) == 3  # every benchmark of the surviving side measured


def test_sides_that_order_their_benchmarks_differently_run_without_turns(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    head, _, plain = BENCH.partition("def test_plain")
    b = _project(
        tmp_path / "b", head.replace("def _mark", "def test_plain" + plain + "\n\ndef _mark")
    )
    done = _pair(tmp_path, a, b)
    assert all(p.returncode == 0 for p in done.values()), done
    report = read_report(a / "results.json")
    assert report is not None and "order" in report.lost and not report.paired, report


def test_no_turns_without_the_socket(tmp_path: Path) -> None:
    root = _project(tmp_path / "solo")
    env = {**os.environ, "SIDE": "s", "ORDER_LOG": str(tmp_path / "order.log")}
    env.pop(FD_ENV, None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--perfci-json={root / 'r.json'}"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_report(root / "r.json") is None
