"""Shared by the hostile-input tests: the CLI in-process, results documents to mutate, and
a snapshot of everything a store holds (SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from dataclasses import dataclass
from typing import Any

from factories import run, sha
from sqlalchemy import select

from perfci.cli import main
from perfci.store.engine import make_engine
from perfci.store.models import Base


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def refused(self) -> bool:
        """Exit 2 with one line on stderr, no traceback."""
        return self.code == 2 and self.err.count("\n") == 1 and "Traceback" not in self.err


def cli(*args: str) -> Outcome:
    """`perfci ARGS` through its entry point, in this process: an exception that is not
    one of perfci's user errors propagates and fails the test that called it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return Outcome(code, out.getvalue(), err.getvalue())


def results_doc(seed: object = "hostile") -> dict[str, Any]:
    """A valid perfci results document, its run and commit unique to `seed`."""
    doc = json.loads(run(commit=sha(seed), run_id=f"run-{seed}").to_json())
    return dict(doc)


def mutate(doc: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


DELETE = object()


def store_snapshot(url: str) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every perfci table, in key order: equal snapshots, same store."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            snapshot = []
            for table in Base.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                snapshot.append((table.name, [tuple(row) for row in conn.execute(query)]))
            return snapshot
    finally:
        engine.dispose()
