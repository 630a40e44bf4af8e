"""A bounded background load for the drift evaluation (`ab_drift.py`): a child process
that waits, then for a fixed time pushes bytes through a loopback TCP connection on
127.0.0.1 (nothing else is reached) and hashes and sums what it receives, then exits.

Run as a script it is that child (`python ab_load.py AFTER SECONDS`): it prints one JSON
line when it ends (by its clock or a SIGTERM): wall-clock start and stop, bytes moved.
`background_load` starts it, pinned to given CPUs, and stops it on leaving whatever
happened, so a failed comparison leaves no load behind."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

CHUNK = 64 * 1024


@dataclass
class LoadReport:
    """What the load did, its times in seconds from the caller's origin."""

    ran: bool
    start: float = 0.0
    stop: float = 0.0
    moved: int = 0  # bytes through the loopback connection


@dataclass
class Load:
    report: LoadReport | None = None


def _sink(server: socket.socket, state: dict[str, float]) -> None:
    """Receives until the client closes, with CPU work on every chunk."""
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(CHUNK):
            hashlib.sha256(data).digest()
            sum(data[::16])  # a Python-level pass too, as a service parsing its input makes
            state["moved"] += len(data)


def _push(seconds: float, state: dict[str, float]) -> None:
    """Bytes from a client to a server thread on 127.0.0.1 for `seconds`."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        sink = threading.Thread(target=_sink, args=(server, state))
        sink.start()
        payload = os.urandom(CHUNK)
        try:
            with socket.create_connection(server.getsockname()) as client:
                while time.time() - state["start"] < seconds:
                    client.sendall(payload)
        finally:
            sink.join()  # the client is closed by now, so the sink has its end of stream


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)  # unwinds through _push's finally, so the report is still printed


def _child(after: float, seconds: float) -> None:
    signal.signal(signal.SIGTERM, _stop)
    state = {"start": 0.0, "stop": 0.0, "moved": 0.0}
    try:
        time.sleep(after)
        state["start"] = time.time()
        _push(seconds, state)
    finally:
        state["stop"] = time.time()
        print(json.dumps(state), flush=True)


@contextlib.contextmanager
def background_load(
    after: float, seconds: float, cpus: str | None, origin: float | None = None
) -> Iterator[Load]:
    """The load, starting `after` seconds from now on `cpus` (taskset's list; None:
    wherever the OS puts it), for `seconds`; its report, its times from `origin` (a
    `time.time()`; default: now), is set on leaving."""
    pin = ["taskset", "-c", cpus] if cpus else []
    load = Load()
    origin = time.time() if origin is None else origin
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [*pin, sys.executable, __file__, str(after), str(seconds)], stdout=out
        )
        try:
            yield load
        finally:
            if child.poll() is None:
                child.terminate()
            child.wait()
            out.seek(0)
            load.report = _report(out.read(), origin)


def _report(text: str, origin: float) -> LoadReport:
    """The child's line as times from `origin`; a child stopped while waiting never ran."""
    if not text.strip():
        return LoadReport(ran=False)
    doc = json.loads(text)
    if not doc["moved"]:
        return LoadReport(ran=False)
    return LoadReport(True, doc["start"] - origin, doc["stop"] - origin, int(doc["moved"]))


if __name__ == "__main__":
    _child(float(sys.argv[1]), float(sys.argv[2]))
