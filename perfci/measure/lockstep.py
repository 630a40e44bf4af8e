"""Base and head timed in turn: two pytest processes of `perfci ab`, one per side, pass a
turn over a socket, so that each benchmark's timed rounds alternate between the sides in
turns of about TURN_S. What moves a machine's speed on a longer scale (heat, a
background job, a shared core's spells of tens of milliseconds) then falls on both sides
alike. The cost: a turn starts where the other process left the caches. QUALITY.md
("Same-job A/B") measures it against `perfci ab --sequential`.

The protocol, one line a message: each side first sends the benchmarks it collected
(`L`); both then time the benchmarks they have in common in that order. Before a
benchmark's rounds a side says where it is (`H i`); when both are at the same one, the
leading side times rounds for a turn and passes it (`T`), the other times a turn and
passes it back, and so on; a side that ends its rounds says so (`D i`) and the other goes on alone,
as it does once the other's session has ended (`E`).
A benchmark one side never reaches (skipped, failed early) is timed alone by the other. A
partner that stops answering ends the turns for the session, and the results say why.
Only the timed rounds take turns; calibration and setup run side by side."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FD_ENV = "PERFCI_LOCKSTEP_FD"  # the inherited socket's file descriptor
LEAD_ENV = "PERFCI_LOCKSTEP_LEAD"  # "1" on the side that times the first round
ENDED = "the other side's process ended"
# A side keeps the turn for rounds of at least this long in all: short enough that both
# sides meet the same speed (a shared core's spells last tens of milliseconds), long
# enough that a turn is not a context switch and cold caches every microsecond round
TURN_S = 0.01
TIMEOUT_S = 900.0  # longer than any round perfci's profiles time, conversions included


class PartnerLost(Exception):
    """The other side closed its end or stopped answering."""


@dataclass
class Report:
    """What the turns achieved, written beside the results file for `perfci ab`."""

    paired: list[str] = field(default_factory=list)
    alone: list[str] = field(default_factory=list)
    lost: str = ""

    def write(self, results: Path) -> None:
        path = sidecar(results)
        path.write_text(json.dumps({"paired": self.paired, "alone": self.alone, "lost": self.lost}))


def sidecar(results: Path) -> Path:
    """Where a process's turn report lies, beside its results file."""
    return results.with_name(results.name + ".lockstep.json")


def read_report(results: Path) -> Report | None:
    """A process's turn report, None when it wrote none (no turns were asked for)."""
    path = sidecar(results)
    if not path.is_file():
        return None
    doc = json.loads(path.read_text())
    return Report(list(doc.get("paired", [])), list(doc.get("alone", [])), str(doc.get("lost", "")))


class _Line:
    """Line messages over a stream socket, with a deadline on every wait."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(TIMEOUT_S)
        self.buffer = b""

    def send(self, message: str) -> None:
        try:
            self.sock.sendall(message.encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError) as err:
            raise PartnerLost(ENDED) from err
        except OSError as err:
            raise PartnerLost(f"the other side's end is closed ({err})") from err

    def receive(self) -> str:
        while b"\n" not in self.buffer:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError as err:
                raise PartnerLost(f"the other side sent nothing for {TIMEOUT_S:.0f} s") from err
            except ConnectionResetError as err:
                raise PartnerLost(ENDED) from err
            except OSError as err:
                raise PartnerLost(f"the other side's end is closed ({err})") from err
            if not chunk:
                raise PartnerLost(ENDED)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


class Turns:
    """One side's end of the turns; every method is a no-op once the partner is lost."""

    def __init__(self, sock: socket.socket, lead: bool) -> None:
        self.line = _Line(sock)
        self.lead = lead
        self.common: list[str] = []
        self.report = Report()
        self.partner_at: int | None = None  # the benchmark the other side is at
        self.current: int | None = None  # ours, while its rounds run
        self.synced = False  # taking turns on the current benchmark
        self.partner_done = False  # the other side ended the current benchmark's rounds
        self.partner_ended = False  # the other side's session ended
        self.turn_began = 0.0  # when our current turn began (perf_counter)

    @classmethod
    def from_environment(cls) -> Turns | None:
        """The turns `perfci ab` asked for through the environment, else None."""
        fd = os.environ.get(FD_ENV)
        if not fd:
            return None
        sock = socket.socket(fileno=int(fd))
        return cls(sock, os.environ.get(LEAD_ENV) == "1")

    def _lose(self, err: PartnerLost, where: str) -> None:
        self.report.lost = f"{err} ({where})"
        self.synced = False

    @property
    def active(self) -> bool:
        return not self.report.lost

    def agree(self, benchmarks: Sequence[str]) -> None:
        """Exchange the collected benchmarks; take turns on those both sides have, which
        must come in the same order on both."""
        if not self.active:
            return
        try:
            self.line.send("L " + json.dumps(list(benchmarks)))
            message = self.line.receive()
        except PartnerLost as err:
            self._lose(err, "while the sides exchanged their benchmarks")
            return
        theirs = json.loads(message[2:]) if message.startswith("L ") else []
        shared = set(theirs)
        mine = [b for b in benchmarks if b in shared]
        if mine != [b for b in theirs if b in set(benchmarks)]:
            self.report.lost = "the two sides collect their common benchmarks in another order"
            return
        self.common = mine

    def begin(self, nodeid: str) -> None:
        """Before a benchmark's rounds (and its warmup): wait until the other side is at
        the same benchmark, or learn that it will not come, and wait for our turn."""
        self.synced = self.partner_done = False
        if not self.active or nodeid not in self.common:
            self.current = None
            return
        index = self.common.index(nodeid)
        self.current = index
        try:
            self.line.send(f"H {index}")
            while self.partner_at is None or self.partner_at < index:
                self._absorb(self.line.receive())
            self.synced = self.partner_at == index
            if self.synced and not self.lead:
                self._await_turn()
            self.turn_began = time.perf_counter()
        except PartnerLost as err:
            self._lose(err, f"before {nodeid}")

    def passed(self) -> None:
        """After each timed round: once our turn has lasted TURN_S, pass it and wait for
        ours again."""
        if not self.synced or self.partner_done:
            return
        if time.perf_counter() - self.turn_began < TURN_S:
            return
        try:
            self.line.send("T")
            self._await_turn()
            self.turn_began = time.perf_counter()
        except PartnerLost as err:
            self._lose(err, f"in the rounds of benchmark {self.current}")

    def end(self, nodeid: str) -> None:
        """After a benchmark's rounds, whatever their outcome."""
        if self.current is None or not self.active:
            return
        (self.report.paired if self.synced else self.report.alone).append(nodeid)
        try:
            self.line.send(f"D {self.current}")
        except PartnerLost as err:
            self._lose(err, f"after {nodeid}")
        self.current, self.synced = None, False

    def close(self) -> None:
        """At the session's end: the other side times whatever it has left alone. Both
        sides say so and wait for the other's word before closing, so that neither
        writes to an end already closed (which would read as a crash)."""
        if self.active:
            with contextlib.suppress(PartnerLost):  # it died: nothing waits for this
                self.line.send("E")
                while not self.partner_ended:
                    self._absorb(self.line.receive())
        self.line.sock.close()

    def _await_turn(self) -> None:
        while True:
            message = self.line.receive()
            if message == "T":
                return
            self._absorb(message)
            if self.partner_done:
                return

    def _absorb(self, message: str) -> None:
        kind, _, value = message.partition(" ")
        if kind == "H":
            self.partner_at = int(value)
        elif kind == "E":  # the other side's session ended: past every benchmark
            self.partner_at = len(self.common)
            self.partner_done = self.partner_ended = True
        elif kind == "D":
            if self.partner_at == int(value):
                self.partner_at = None
            if self.current == int(value):
                self.partner_done = True
        # a "T" outside a turn is one the other side passed before it learnt we had ended


def attach(fixture: Any, nodeid: str, turns: Turns) -> None:
    """Make pytest-benchmark's fixture take turns in its timed rounds: its statistics
    object is made just before the warmup and the rounds, and updated after each round."""
    make_stats = fixture._make_stats

    def taking_turns(iterations: int) -> Any:
        stats = make_stats(iterations)
        update = stats.update

        def update_in_turn(duration: float) -> None:
            update(duration)
            turns.passed()

        stats.update = update_in_turn
        turns.begin(nodeid)
        return stats

    fixture._make_stats = taking_turns


class Hooks:
    """The pytest hooks of one side's session, registered only when `perfci ab` asked
    for turns (perfci.plugin loads this module as a plugin)."""

    def __init__(self, turns: Turns, results: Path | None) -> None:
        self.turns = turns
        self.results = results

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # pytest-benchmark's fixture name: the tests that can time rounds, in run order
        names = [i.nodeid for i in session.items if "benchmark" in getattr(i, "fixturenames", ())]
        self.turns.agree(names)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        fixture = getattr(item, "funcargs", {}).get("benchmark")
        if fixture is not None:
            attach(fixture, item.nodeid, self.turns)
        try:
            return (yield)
        finally:
            self.turns.end(item.nodeid)

    def pytest_sessionfinish(self) -> None:
        self.turns.close()
        if self.results is not None:
            self.turns.report.write(self.results)


def pytest_configure(config: pytest.Config) -> None:
    turns = Turns.from_environment()
    if turns is None:
        return
    results = config.getoption("perfci_json", None)
    hooks = Hooks(turns, Path(results) if results else None)
    config.pluginmanager.register(hooks, "perfci-lockstep")
