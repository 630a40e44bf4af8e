"""The perfci results file: one run of suites, versioned and self-describing.

The pytest plugin writes it, `perfci ingest` and `perfci compare A.json B.json` read it.
Parsing validates every field and raises `ResultsError` with one clear line, so a
truncated or hand-edited file never reaches the store half-understood.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import MISSING, asdict, astuple, dataclass, field
from typing import Any, Literal

from perfci import limits
from perfci.limits import LimitError, check_text, check_time
from perfci.stats.summary import Summary, summarize

FORMAT = "perfci-run"
FORMAT_VERSION = 1

Direction = Literal["lower", "higher"]
DIRECTIONS: tuple[Direction, ...] = ("lower", "higher")


class ResultsError(ValueError):
    """A results file that cannot be understood; the message is one line for the user."""


@dataclass(frozen=True)
class Metric:
    """One metric of one benchmark: raw samples plus how to read them.

    `samples` is empty only for imports that kept no raw data (pytest-benchmark without
    --benchmark-save-data); `summary` then holds what the source reported.
    """

    name: str
    unit: str
    direction: Direction
    samples: tuple[float, ...]
    summary: Summary | None = None

    def summarized(self) -> Summary:
        if self.samples:
            return summarize(self.samples)
        if self.summary is None:
            raise ResultsError(f"metric {self.name} has neither samples nor a summary")
        return self.summary


@dataclass(frozen=True)
class BenchmarkResult:
    suite: str
    name: str
    params: dict[str, Any]
    metrics: tuple[Metric, ...]


@dataclass(frozen=True)
class Outcome:
    """A benchmark that produced no measurement: skipped (with its reason) or failed."""

    suite: str
    name: str
    params: dict[str, Any]
    status: Literal["skipped", "error"]
    reason: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...] = ()
    branch: str | None = None
    author_time: str | None = None
    subject: str | None = None


# Runs of a pull request, or of a same-job A/B comparison (`perfci ab`), measure one
# question each: never a branch's history (charts, trends, detection, base runs of main).
NOT_HISTORY = frozenset({"pull_request", "ab"})


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    started_at: str
    finished_at: str
    status: Literal["passed", "failed"] = "passed"
    profile: str | None = None
    trigger: str = "manual"
    pr_number: int | None = None
    ci_url: str | None = None
    host: str | None = None
    thermal_state: str | None = None
    low_power_mode: bool | None = None
    load_average: float | None = None
    source: str = "perfci"


@dataclass(frozen=True)
class RunResult:
    run: RunInfo
    commit: CommitInfo | None  # None when measured outside git; ingest then needs --commit
    machine: dict[str, Any]
    environment: dict[str, Any]
    benchmarks: tuple[BenchmarkResult, ...]
    outcomes: tuple[Outcome, ...] = field(default=())

    def to_json(self) -> str:
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False)


def canonical_params(params: dict[str, Any]) -> str:
    """The one spelling of a parameter set: sorted keys, no spaces, plain JSON values."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def parse_run(doc: dict[str, Any]) -> RunResult:
    """Validate a decoded perfci results document and build its `RunResult`."""
    version = doc.get("format_version")
    if doc.get("format") != FORMAT:
        raise ResultsError(f"not a perfci results file (format is {doc.get('format')!r})")
    if version != FORMAT_VERSION:
        raise ResultsError(
            f"results format_version {version!r} is not supported (this perfci reads "
            f"{FORMAT_VERSION}); upgrade perfci"
        )
    run = _record(RunInfo, _obj(doc, "run"), "run")
    commit = None if doc.get("commit") is None else _commit(_obj(doc, "commit"))
    benchmarks = tuple(_benchmark(b, i) for i, b in enumerate(_list(doc, "benchmarks")))
    outcomes = tuple(_outcome(o, i) for i, o in enumerate(_list(doc, "outcomes", [])))
    for key in ("machine", "environment"):
        if not isinstance(_obj(doc, key).get("fingerprint"), str):
            raise ResultsError(f"{key}.fingerprint must be a string")
    return validated(
        RunResult(
            run=run,
            commit=commit,
            machine=_obj(doc, "machine"),
            environment=_obj(doc, "environment"),
            benchmarks=benchmarks,
            outcomes=outcomes,
        )
    )


def validated(result: RunResult) -> RunResult:
    """`result`, once every field fits the store (perfci.limits: text, integers, figures,
    times, parameters, machine and environment) and each benchmark and metric appears
    once. Both readers (perfci JSON and pytest-benchmark JSON) end here."""
    try:
        _check_limits(result)
    except LimitError as exc:
        raise ResultsError(str(exc)) from None
    _check_unique(result.benchmarks, result.outcomes)
    return result


def _check_limits(result: RunResult) -> None:
    run, commit = result.run, result.commit
    check_time(run.started_at, "run.started_at")
    check_time(run.finished_at, "run.finished_at")
    _check_record(run, "run", limits.RUN_TEXT)
    if run.pr_number is not None:
        limits.check_int(run.pr_number, "run.pr_number", 1, limits.INT32_MAX)
    if run.load_average is not None:
        limits.check_float(run.load_average, "run.load_average")
    if commit is not None:
        _check_commit(commit)
    limits.check_machine(result.machine)
    limits.check_environment(result.environment)
    for i, bench in enumerate(result.benchmarks):
        where = f"benchmarks[{i}]"
        _check_record(bench, where, limits.BENCHMARK_TEXT)
        limits.check_json(bench.params, f"{where}.params")
        for j, metric in enumerate(bench.metrics):
            at = f"{where}.metrics[{j}]"
            _check_record(metric, at, limits.METRIC_TEXT)
            if metric.samples:
                limits.check_figures(metric.samples, f"{at}.samples")
            if metric.summary is not None:
                summary = metric.summary
                limits.check_int(summary.n, f"{at}.rounds", 1, limits.INT32_MAX)
                figures = astuple(summary)[1:]
                limits.check_figures(figures, f"{at} summary")
    for i, outcome in enumerate(result.outcomes):
        where = f"outcomes[{i}]"
        _check_record(outcome, where, {**limits.BENCHMARK_TEXT, "reason": None})
        limits.check_json(outcome.params, f"{where}.params")


def checked_commit(commit: CommitInfo) -> CommitInfo:
    """`commit` once its fields fit the store (after a flag or git completed it)."""
    try:
        _check_commit(commit)
    except LimitError as exc:
        raise ResultsError(str(exc)) from None
    return commit


def _check_commit(commit: CommitInfo) -> None:
    for sha in (commit.sha, *commit.parents):
        if not is_sha(sha):
            raise LimitError(f"commit sha {sha[:80]!r} is not a hexadecimal git sha")
    _check_record(commit, "commit", limits.COMMIT_TEXT)
    if commit.author_time is not None:
        check_time(commit.author_time, "commit.author_time")


def _check_record(record: object, where: str, text: dict[str, int | None]) -> None:
    for name, limit in text.items():
        value = getattr(record, name)
        if isinstance(value, str):
            check_text(value, f"{where}.{name}", limit)


def _check_unique(benchmarks: tuple[BenchmarkResult, ...], outcomes: tuple[Outcome, ...]) -> None:
    """Each benchmark appears once (measured, skipped or failed), each metric once in it."""
    seen: set[tuple[str, str, str]] = set()
    items: tuple[BenchmarkResult | Outcome, ...] = (*benchmarks, *outcomes)
    for item in items:
        key = (item.suite, item.name, canonical_params(item.params))
        if key in seen:
            raise ResultsError(f"benchmark {item.suite}::{item.name} {key[2]} appears twice")
        seen.add(key)
    for bench in benchmarks:
        names = [m.name for m in bench.metrics]
        if len(names) != len(set(names)):
            raise ResultsError(f"benchmark {bench.suite}::{bench.name} repeats a metric")


def _commit(doc: dict[str, Any]) -> CommitInfo:
    commit: CommitInfo = _record(CommitInfo, doc, "commit")
    commit = CommitInfo(**{**asdict(commit), "parents": tuple(_str_list(doc, "parents"))})
    for sha in (commit.sha, *commit.parents):
        if not is_sha(sha):
            raise ResultsError(f"commit sha {sha!r} is not a hexadecimal git sha")
    return commit


def is_sha(value: object) -> bool:
    """A full or abbreviated git object name in lower-case hex."""
    return (
        isinstance(value, str)
        and 4 <= len(value) <= 64
        and all(c in "0123456789abcdef" for c in value)
    )


def _benchmark(doc: object, index: int) -> BenchmarkResult:
    where = f"benchmarks[{index}]"
    if not isinstance(doc, dict):
        raise ResultsError(f"{where} is not an object")
    metrics = []
    for j, m in enumerate(_list(doc, "metrics", where=where)):
        mwhere = f"{where}.metrics[{j}]"
        if not isinstance(m, dict):
            raise ResultsError(f"{mwhere} is not an object")
        samples = _samples(m.get("samples"), mwhere)
        direction = m.get("direction")
        if direction not in DIRECTIONS:
            raise ResultsError(f"{mwhere}.direction must be 'lower' or 'higher'")
        metrics.append(
            Metric(
                name=_str(m, "name", mwhere),
                unit=_str(m, "unit", mwhere),
                direction=direction,
                samples=samples,
            )
        )
    return BenchmarkResult(
        suite=_str(doc, "suite", where),
        name=_str(doc, "name", where),
        params=_obj(doc, "params", where=where),
        metrics=tuple(metrics),
    )


def _outcome(doc: object, index: int) -> Outcome:
    where = f"outcomes[{index}]"
    if not isinstance(doc, dict):
        raise ResultsError(f"{where} is not an object")
    status = doc.get("status")
    if status not in ("skipped", "error"):
        raise ResultsError(f"{where}.status must be 'skipped' or 'error'")
    return Outcome(
        suite=_str(doc, "suite", where),
        name=_str(doc, "name", where),
        params=_obj(doc, "params", where=where),
        status=status,
        reason=_str(doc, "reason", where),
    )


def _samples(value: object, where: str) -> tuple[float, ...]:
    """A non-empty list of numbers as floats, converted at C speed (this is the ingest hot
    path: millions of samples); `validated` checks that they are finite and in range."""
    problem = f"{where}.samples must be a non-empty list of finite numbers"
    if not isinstance(value, list) or not value or any(v is True or v is False for v in value):
        raise ResultsError(problem)
    try:
        converted = array("d", value)
    except (TypeError, OverflowError):  # a string or null; an integer beyond float range
        raise ResultsError(problem) from None
    return tuple(converted)


def _obj(doc: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise ResultsError(f"{_at(where, key)} must be an object")
    return value


def _list(
    doc: dict[str, Any], key: str, default: list[Any] | None = None, where: str = ""
) -> list[Any]:
    value = doc.get(key, default)
    if not isinstance(value, list):
        raise ResultsError(f"{_at(where, key)} must be a list")
    return value


def _str(doc: dict[str, Any], key: str, where: str = "") -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise ResultsError(f"{_at(where, key)} must be a non-empty string")
    return value


def _str_list(doc: dict[str, Any], key: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ResultsError(f"commit.{key} must be a list of strings")
    return value


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "pr_number": (int,),
    "low_power_mode": (bool,),
    "load_average": (int, float),
}


_FIELD_CHOICES: dict[str, tuple[str, ...]] = {"status": ("passed", "failed")}


def _record(cls: type[Any], doc: dict[str, Any], where: str) -> Any:
    """Build a flat dataclass from `doc`, rejecting unknown keys and mistyped fields; only
    fields whose default is None may be null."""
    names = set(cls.__dataclass_fields__)
    unknown = sorted(set(doc) - names)
    if unknown:
        raise ResultsError(f"{where} has unknown field {unknown[0]!r}")
    values: dict[str, Any] = {}
    for name, f in cls.__dataclass_fields__.items():
        required = f.default is MISSING and f.default_factory is MISSING
        if name not in doc:
            if required:
                raise ResultsError(f"{where}.{name} is missing")
            continue
        value = doc[name]
        if value is None:
            if f.default is not None:
                raise ResultsError(f"{where}.{name} must not be null")
            values[name] = value
            continue
        expected = _FIELD_TYPES.get(name, (str,) if name != "parents" else (list,))
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise ResultsError(f"{where}.{name} has the wrong type")
        if name in _FIELD_CHOICES and value not in _FIELD_CHOICES[name]:
            raise ResultsError(f"{where}.{name} must be one of {', '.join(_FIELD_CHOICES[name])}")
        values[name] = value
    return cls(**values)


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
