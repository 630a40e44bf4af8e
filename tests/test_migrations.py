"""Schema upgrades: old databases keep their rows, a failed upgrade changes nothing,
and several writers at once lose nothing."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from factories import run, sha
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from perfci.store import open_store
from perfci.store.engine import make_engine
from perfci.store.ingest import ingest_runs
from perfci.store.migrate import current_revision, upgrade
from perfci.store.models import Measurement, Run
from perfci.store.queries import list_runs

FIRST = "0001"


def old_database(url: str) -> Engine:
    """A database made by the first revision, holding one run."""
    engine = make_engine(url)
    upgrade(engine, FIRST)
    from perfci.store import Store

    ingest_runs(Store(url, engine), [run(commit=sha("old"))])
    return engine


def revision_and_tables(engine: Engine) -> tuple[str | None, list[str]]:
    with engine.connect() as conn:
        return current_revision(conn), sorted(inspect(conn).get_table_names())


def test_an_old_database_upgrades_with_its_rows(store_url: str) -> None:
    engine = old_database(store_url)
    assert "alerts" not in revision_and_tables(engine)[1]
    engine.dispose()

    store = open_store(store_url)  # opening upgrades
    assert "alerts" in revision_and_tables(store.engine)[1]
    (row,) = list_runs(store)
    assert row.sha == sha("old") and row.measurements == 2
    store.close()


def test_alerts_stored_before_shapes_become_steps(store_url: str) -> None:
    """Revision 0003 adds alerts' `shape`: a stored alert keeps its row as a step, and
    the database refuses a shape that is neither step nor drift."""
    engine = make_engine(store_url)
    upgrade(engine, "0002")
    from perfci.store import Store

    ingest_runs(Store(store_url, engine), [run(commit=sha("old"))])
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alerts (benchmark_id, machine_id, metric, commit_id, kind,"
                " magnitude, status, detected_at) SELECT b.id, m.id, 'latency', c.id,"
                " 'regression', 1.2, 'open', '2026-11-01 10:00:00'"
                " FROM benchmarks b, machines m, commits c"
            )
        )
    engine.dispose()
    store = open_store(store_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT kind, shape FROM alerts")).all() == [
            ("regression", "step")
        ]
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text("UPDATE alerts SET shape = 'spiral'"))
    store.close()


FAILING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("DELETE FROM measurements")
    raise RuntimeError("disk full, say")


def downgrade() -> None:
    pass
"""


def test_a_failed_upgrade_leaves_the_database_as_it_was(store_url: str, tmp_path: Path) -> None:
    engine = old_database(store_url)
    before = revision_and_tables(engine)
    scripts = tmp_path / "migrations"
    shutil.copytree(Path(__file__).parents[1] / "migrations", scripts)
    head = sorted(p.stem.split("_")[0] for p in (scripts / "versions").glob("0*.py"))[-1]
    (scripts / "versions" / "0099_failing.py").write_text(FAILING_REVISION.format(head=head))

    # From the first revision: the real later revisions run, then 0099 fails.
    with pytest.raises(RuntimeError, match="disk full"):
        upgrade(engine, scripts=scripts)

    assert revision_and_tables(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Measurement)).scalar_one() == 2
    engine.dispose()


def _ingest_many(url: str, worker: int, runs: int) -> None:
    store = open_store(url)
    results = [run(commit=sha(f"w{worker}-{i}"), run_id=f"w{worker}-{i}") for i in range(runs)]
    for result in results:
        ingest_runs(store, [result])
        ingest_runs(store, [run(commit=sha("shared"), run_id="shared-run")])  # all race for it
    store.close()


def test_four_processes_ingesting_into_one_sqlite_file_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # created by the workers themselves, at once
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_ingest_many, args=(url, w, 15)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]

    store = open_store(url)
    with store.engine.connect() as conn:
        keys = conn.execute(select(Run.run_key)).scalars().all()
        measurements = conn.execute(select(func.count()).select_from(Measurement)).scalar_one()
    store.close()
    expected = {f"w{w}-{i}" for w in range(4) for i in range(15)} | {"shared-run"}
    assert sorted(keys) == sorted(expected)  # every run once: none lost, none doubled
    assert measurements == 2 * len(expected)
