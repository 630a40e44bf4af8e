"""The built wheel, installed into a fresh virtual environment, upgrades an old database."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from factories import run, sha

from perfci.store import Store
from perfci.store.engine import make_engine
from perfci.store.ingest import ingest_runs
from perfci.store.migrate import upgrade

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_the_wheel_carries_migrations_and_upgrades_an_old_database(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("perfci-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "perfci/_migrations/env.py" in names
    assert "perfci/_migrations/versions/0001_initial.py" in names
    assert "perfci/_dashboards/README.md" in names

    # A database made by the first revision, with a run in it.
    db = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine, "0001")
    ingest_runs(Store(f"sqlite:///{db}", engine), [run(commit=sha("kept"))])
    engine.dispose()

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        # Run from tmp_path so the checkout's perfci/ cannot shadow the installed one.
        return subprocess.run(
            [str(env / "bin" / "perfci"), *args, "--db", f"sqlite:///{db}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    where = subprocess.run(
        [str(python), "-c", "import perfci.paths as p; print(p.migrations_dir())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env) in where.stdout  # the wheel's own copy, not the checkout's

    assert "0001 (behind head" in cli("db", "current").stdout
    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from 0001 to" in upgraded.stdout
    listing = cli("runs")
    assert sha("kept")[:12] in listing.stdout
