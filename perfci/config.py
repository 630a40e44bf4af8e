"""Triage configuration: `perfci.toml`, or `[tool.perfci]` in `pyproject.toml`, in the
working directory.

    min_effect = 0.03                       # default minimum practical effect

    [[benchmark]]                           # per-benchmark minimum effects
    match = "suites/mlx/test_gemm::*"       # glob on suite::name
    min_effect = 0.05

    [[acknowledge]]                         # an expected change
    benchmark = "suites/mlx/test_gemm::test_gemm"   # glob on suite::name
    metric = "latency"                      # optional: every metric
    commit = "3f2a9c1"                      # optional: sha prefix of the change's commit
    reason = "float32 accumulation for accuracy"

    [ab]                                    # perfci ab
    setup = "make -C native"                # run in each side's checkout before measuring

Every key is checked: an unknown one, a wrong type or a missing `reason` is a
ConfigError with one line naming the file and the key.
"""

from __future__ import annotations

import fnmatch
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from perfci.limits import LimitError, check_text

CONFIG_FILE = "perfci.toml"
TEXT_LIMIT = 4096  # characters of a glob, metric, commit or reason (a reason is stored)


class ConfigError(ValueError):
    """The configuration cannot be used; one line for the user."""


@dataclass(frozen=True)
class Acknowledgement:
    """An expected change: benchmarks matching `benchmark` (and `metric`, `commit` when
    given) are acknowledged with `reason`."""

    benchmark: str
    reason: str
    metric: str | None = None
    commit: str | None = None

    def matches(self, label: str, metric: str, commit: str | None = None) -> bool:
        if not fnmatch.fnmatchcase(label, self.benchmark):
            return False
        if self.metric is not None and metric != self.metric:
            return False
        if self.commit is not None:
            return commit is not None and commit.lower().startswith(self.commit.lower())
        return True


@dataclass(frozen=True)
class Config:
    """The triage configuration; `source` is the file it came from (None: defaults)."""

    min_effect: float | None = None
    thresholds: tuple[tuple[str, float], ...] = field(default=())  # (glob, min effect)
    acknowledgements: tuple[Acknowledgement, ...] = field(default=())
    source: Path | None = None
    ab_setup: str | None = None  # [ab] setup: a shell command building a side's checkout

    def min_effect_for(self, label: str, default: float) -> float:
        """The minimum effect of benchmark `label` (suite::name): the first matching
        `[[benchmark]]` entry, else the file's `min_effect`, else `default`."""
        for pattern, effect in self.thresholds:
            if fnmatch.fnmatchcase(label, pattern):
                return effect
        return self.min_effect if self.min_effect is not None else default

    def acknowledged(self, label: str, metric: str, commit: str | None = None) -> str | None:
        """The reason of the first acknowledgement matching, or None."""
        for ack in self.acknowledgements:
            if ack.matches(label, metric, commit):
                return ack.reason
        return None


_TOP = {"min_effect", "benchmark", "acknowledge", "ab"}
_BENCHMARK = {"match", "min_effect"}
_ACK = {"benchmark", "metric", "commit", "reason"}
_AB = {"setup"}


def _effect(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: min_effect must be a number, e.g. 0.03")
    if not 0 < value < 1:  # compared as it is: NaN fails, an integer of any size too
        raise ConfigError(f"{where}: min_effect must be between 0 and 1, e.g. 0.03")
    return float(value)


def _string(where: str, table: dict[str, Any], key: str, required: bool) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: `{key}` must be a non-empty string")
    try:
        check_text(value, f"`{key}`", TEXT_LIMIT)
    except LimitError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return value


def _tables(where: str, doc: dict[str, Any], key: str, allowed: set[str]) -> list[dict[str, Any]]:
    entries = doc.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{where}: `{key}` must be a list of tables ([[{key}]])")
    for i, entry in enumerate(entries, start=1):
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key `{unknown[0]}` in [[{key}]] number {i} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
    return list(entries)


def _ab_setup(where: str, doc: dict[str, Any]) -> str | None:
    table = doc.get("ab", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: `ab` must be a table ([ab])")
    unknown = sorted(set(table) - _AB)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key `{unknown[0]}` in [ab] (allowed: {', '.join(sorted(_AB))})"
        )
    return _string(f"{where}: [ab]", table, "setup", False)


def parse(doc: dict[str, Any], where: str) -> Config:
    """A Config from the parsed TOML table `doc`; ConfigError naming `where`."""
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key `{unknown[0]}` (allowed: {', '.join(sorted(_TOP))})"
        )
    default = _effect(where, doc["min_effect"]) if "min_effect" in doc else None
    thresholds = []
    for i, entry in enumerate(_tables(where, doc, "benchmark", _BENCHMARK), start=1):
        at = f"{where}: [[benchmark]] number {i}"
        if "min_effect" not in entry:
            raise ConfigError(f"{at}: `min_effect` is missing")
        thresholds.append(
            (str(_string(at, entry, "match", True)), _effect(at, entry["min_effect"]))
        )
    acks = []
    for i, entry in enumerate(_tables(where, doc, "acknowledge", _ACK), start=1):
        at = f"{where}: [[acknowledge]] number {i}"
        acks.append(
            Acknowledgement(
                benchmark=str(_string(at, entry, "benchmark", True)),
                reason=str(_string(at, entry, "reason", True)),
                metric=_string(at, entry, "metric", False),
                commit=_string(at, entry, "commit", False),
            )
        )
    return Config(default, tuple(thresholds), tuple(acks), ab_setup=_ab_setup(where, doc))


def load_config(directory: Path | None = None) -> Config:
    """The configuration of `directory` (default: the working directory): perfci.toml,
    else [tool.perfci] in pyproject.toml, else the defaults. ConfigError for a file that
    cannot be read or does not validate."""
    here = directory or Path.cwd()
    for path, inner in ((here / CONFIG_FILE, False), (here / "pyproject.toml", True)):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue  # no such file
        if not stat.S_ISREG(mode):  # a FIFO would block, a folder cannot be read
            raise ConfigError(f"{path.name}: not a regular file")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path.name}: cannot read ({exc})") from None
        except RecursionError:  # tomllib follows nested arrays by recursion
            raise ConfigError(f"{path.name}: cannot read (nested too deeply)") from None
        if inner:
            tool = doc.get("tool", {})
            if not isinstance(tool, dict) or "perfci" not in tool:
                continue
            doc, where = tool["perfci"], "pyproject.toml [tool.perfci]"
            if not isinstance(doc, dict):
                raise ConfigError(f"{where}: must be a table")
        else:
            where = CONFIG_FILE
        config = parse(doc, where)
        return replace(config, source=path)
    return Config()
