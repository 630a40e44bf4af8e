"""The store's tables: the nouns of ARCHITECTURE.md section 4, with explicit column types.

Types are spelled so SQLite and PostgreSQL agree: times are UTC without a zone, floats are
double precision, raw samples are little-endian float64 bytes. Constraint names follow
NAMING_CONVENTION so migrations can refer to them on every backend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
SHA = String(64)  # git object names: 40 hex (SHA-1) or 64 (SHA-256)
HASH = String(64)  # sha256 hex digests of fingerprints and keys


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Commit(Base):
    __tablename__ = "commits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha: Mapped[str] = mapped_column(SHA, unique=True)
    branch: Mapped[str | None] = mapped_column(String(255))
    author_time: Mapped[datetime | None] = mapped_column(DateTime())
    subject: Mapped[str | None] = mapped_column(Text)


class CommitParent(Base):
    """A commit's parents in order; position 0 is the first parent (history's spine)."""

    __tablename__ = "commit_parents"

    commit_id: Mapped[int] = mapped_column(
        ForeignKey("commits.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_sha: Mapped[str] = mapped_column(SHA, index=True)


class Machine(Base):
    """Hardware. `fingerprint` excludes `name`: identical machines compare with each other."""

    __tablename__ = "machines"
    __table_args__ = (UniqueConstraint("fingerprint", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(HASH, index=True)
    chip: Mapped[str] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(64))
    cpu_cores: Mapped[int] = mapped_column(Integer)
    performance_cores: Mapped[int | None] = mapped_column(Integer)
    efficiency_cores: Mapped[int | None] = mapped_column(Integer)
    gpu_cores: Mapped[int | None] = mapped_column(Integer)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    hardware_arch: Mapped[str] = mapped_column(String(32))


class Environment(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(HASH, unique=True)
    os: Mapped[str] = mapped_column(String(64))
    os_version: Mapped[str] = mapped_column(String(255))
    python_version: Mapped[str] = mapped_column(String(32))
    python_arch: Mapped[str] = mapped_column(String(32))
    rosetta: Mapped[bool] = mapped_column(Boolean)
    packages: Mapped[dict[str, Any]] = mapped_column(JSON)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint("status IN ('passed', 'failed')", name="status"),
        Index(None, "machine_id", "environment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(128), unique=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id"), index=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    profile: Mapped[str | None] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(32))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    ci_url: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime())
    finished_at: Mapped[datetime] = mapped_column(DateTime())
    ingested_at: Mapped[datetime] = mapped_column(DateTime())
    thermal_state: Mapped[str | None] = mapped_column(String(64))
    low_power_mode: Mapped[bool | None] = mapped_column(Boolean)
    load_average: Mapped[float | None] = mapped_column(Double)


class Benchmark(Base):
    """`key` is sha256 of suite, name and canonical params: one row per parameter set."""

    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(HASH, unique=True)
    suite: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(512))
    params: Mapped[str] = mapped_column(Text)  # canonical JSON (results.canonical_params)


class Measurement(Base):
    __tablename__ = "measurements"
    __table_args__ = (
        UniqueConstraint("run_id", "benchmark_id", "metric"),
        CheckConstraint("direction IN ('lower', 'higher')", name="direction"),
        Index(None, "benchmark_id", "metric"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"))
    metric: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    n: Mapped[int] = mapped_column(Integer)
    median: Mapped[float] = mapped_column(Double)
    mean: Mapped[float] = mapped_column(Double)
    stddev: Mapped[float] = mapped_column(Double)
    min: Mapped[float] = mapped_column(Double)
    max: Mapped[float] = mapped_column(Double)
    q1: Mapped[float] = mapped_column(Double)
    q3: Mapped[float] = mapped_column(Double)
    samples: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: source kept no raw data


class Outcome(Base):
    """A benchmark of a run that measured nothing: skipped with its reason, or failed."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("run_id", "benchmark_id"),
        CheckConstraint("status IN ('skipped', 'error')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class Alert(Base):
    """A change point on one series (benchmark, metric, machine), from history mode."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('regression', 'improvement', 'environment')", name="kind"),
        CheckConstraint("status IN ('open', 'acknowledged', 'fixed')", name="status"),
        CheckConstraint("shape IN ('step', 'drift')", name="shape"),
        Index(None, "benchmark_id", "metric", "machine_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    metric: Mapped[str] = mapped_column(String(64))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id"))  # first commit after
    # the change lies in last_good..commit when runs are missing between them; for a
    # drift, the values drifted from this commit on
    last_good_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commits.id"))
    # the first bad commit of last_good..commit, as `perfci bisect` measured it
    bisected_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commits.id"))
    kind: Mapped[str] = mapped_column(String(16))
    shape: Mapped[str] = mapped_column(String(8), default="step", server_default="step")
    magnitude: Mapped[float] = mapped_column(Double)  # ratio after / before
    status: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(DateTime())
