"""What a results file may hold, checked once when it is read: the store's column sizes
and ranges (perfci/store/models.py; a test pins the two together), so SQLite and
PostgreSQL take exactly the same files, and values every later reader can handle.

- Text: no NUL character (PostgreSQL refuses it), no lone surrogate (not encodable as
  UTF-8), at most the column's length in characters (PostgreSQL's varchar counts them).
- Integers: within the column's range (32-bit `Integer`, 64-bit `BigInteger`).
- Figures (samples, summaries): finite, and zero or of a magnitude between 1e-100 and
  1e100, so ratios, logarithms and squares of any two of them stay finite.
- Times: ISO 8601 between the years 1970 and 9999, once converted to UTC.
- Free-form JSON (parameters, extra machine fields): plain JSON values nested at most
  `MAX_DEPTH` deep, numbers finite, integers 64-bit.

Every check raises `LimitError` with one line naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
FIGURE_MIN = 1e-100
FIGURE_MAX = 1e100
MAX_DEPTH = 16
FIRST_YEAR, LAST_YEAR = 1970, 9999

# Characters per text column; None: an unbounded `Text` column.
RUN_TEXT: dict[str, int | None] = {
    "run_id": 128,
    "source": 32,
    "status": 16,
    "profile": 16,
    "trigger": 32,
    "ci_url": None,
    "host": 255,
    "thermal_state": 64,
}
COMMIT_TEXT: dict[str, int | None] = {"sha": 64, "branch": 255, "subject": None}
MACHINE_TEXT: dict[str, int | None] = {
    "name": 255,
    "fingerprint": 64,
    "chip": 255,
    "model": 64,
    "hardware_arch": 32,
}
MACHINE_INTEGERS: dict[str, int] = {  # the largest value of each integer column
    "cpu_cores": INT32_MAX,
    "performance_cores": INT32_MAX,
    "efficiency_cores": INT32_MAX,
    "gpu_cores": INT32_MAX,
    "memory_bytes": INT64_MAX,
}
MACHINE_REQUIRED = ("name", "fingerprint", "chip", "cpu_cores", "hardware_arch")
ENVIRONMENT_TEXT: dict[str, int | None] = {
    "fingerprint": 64,
    "os": 64,
    "os_version": 255,
    "python_version": 32,
    "python_arch": 32,
}
PACKAGE_TEXT = 255  # a package's name or version, in the environment's JSON column
BENCHMARK_TEXT: dict[str, int | None] = {"suite": 512, "name": 512}
METRIC_TEXT: dict[str, int | None] = {"name": 64, "unit": 32}


class LimitError(ValueError):
    """A value the store cannot keep as it is; the message is one line for the user."""


def check_text(value: str, where: str, limit: int | None = None) -> None:
    """`value` is storable text: no NUL, no lone surrogate, at most `limit` characters."""
    if "\0" in value:
        raise LimitError(f"{where} contains a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LimitError(f"{where} is not valid Unicode (a lone surrogate)") from None
    if limit is not None and len(value) > limit:
        raise LimitError(f"{where} is longer than {limit} characters")


def check_int(value: int, where: str, low: int, high: int) -> None:
    if not low <= value <= high:
        raise LimitError(f"{where} must be between {low} and {high}")


def check_float(value: float, where: str) -> None:
    """A finite number of a stored `Double` column (an integer must convert to one)."""
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise LimitError(f"{where} must be a finite number")


def is_figure(value: float) -> bool:
    """Finite, and zero or of a magnitude between FIGURE_MIN and FIGURE_MAX."""
    size = abs(value)
    return size <= FIGURE_MAX and (size >= FIGURE_MIN or size == 0)


_FIGURES = f"zero or of a magnitude between {FIGURE_MIN:g} and {FIGURE_MAX:g}"


def check_figures(values: Iterable[float], where: str) -> None:
    """Samples or summary figures: finite, then within the figure range. Checked with
    min/max over the values (C speed: the ingest hot path holds millions)."""
    values = tuple(values)
    if not all(map(math.isfinite, values)):
        raise LimitError(f"{where} must be a non-empty list of finite numbers")
    if not values:
        return
    largest = max(max(values), -min(values))
    smallest = min(map(abs, filter(None, values)), default=FIGURE_MIN)
    if largest > FIGURE_MAX or smallest < FIGURE_MIN:
        raise LimitError(f"{where} must be {_FIGURES}")


def check_time(text: str, where: str) -> None:
    """An ISO 8601 time that converts to UTC within the years FIRST_YEAR to LAST_YEAR."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LimitError(f"{text[:80]!r} is not an ISO 8601 time") from None
    try:
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except OverflowError:
        moment = datetime.min
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise LimitError(f"{where} {text!r} is not a time between {FIRST_YEAR} and {LAST_YEAR}")


def check_json(value: object, where: str, max_depth: int = MAX_DEPTH) -> None:
    """A plain JSON value: strings storable, numbers finite, integers 64-bit, nested at
    most `max_depth` deep. Walked without recursion, so no depth can exhaust the stack."""
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    while stack:
        item, at, depth = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            check_text(item, at)
        elif isinstance(item, int):
            check_int(item, at, -INT64_MAX - 1, INT64_MAX)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise LimitError(f"{at} must be a finite number")
        elif isinstance(item, list | dict):
            if depth >= max_depth:
                raise LimitError(f"{at} is nested more than {max_depth} deep")
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not isinstance(key, str):
                        raise LimitError(f"{at} has a key that is not a string")
                    check_text(key, f"{at} key")
                    stack.append((inner, f"{at}.{key[:40]}", depth + 1))
            else:
                stack.extend((inner, f"{at}[{i}]", depth + 1) for i, inner in enumerate(item))
        else:
            raise LimitError(f"{at} is not a JSON value")


_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "an object"}


def _typed(doc: Mapping[str, Any], key: str, kind: type, where: str, required: bool) -> Any:
    """`doc[key]` when it is of `kind` (null allowed unless `required`)."""
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = _NAMES[kind] + ("" if required else " or null")
        raise LimitError(f"{where}.{key} must be {names}")
    return value


def check_fields(
    doc: Mapping[str, Any],
    where: str,
    text: Mapping[str, int | None],
    required: Iterable[str],
) -> None:
    """The text fields of a flat record: each a string (or null unless required) that
    fits its column."""
    needed = set(required)
    for key, limit in text.items():
        value = _typed(doc, key, str, where, key in needed)
        if value is not None:
            check_text(value, f"{where}.{key}", limit)


def check_machine(machine: Mapping[str, Any]) -> None:
    """The hardware description: every field the store keeps, typed and in range; other
    fields (older or newer files) plain JSON."""
    check_fields(machine, "machine", MACHINE_TEXT, MACHINE_REQUIRED)
    for key, high in MACHINE_INTEGERS.items():
        value = _typed(machine, key, int, "machine", key in MACHINE_REQUIRED)
        if value is not None:
            check_int(value, f"machine.{key}", 1 if key == "cpu_cores" else 0, high)
    for key, value in machine.items():
        if key not in MACHINE_TEXT and key not in MACHINE_INTEGERS:
            check_json(value, f"machine.{key}", max_depth=4)


def check_environment(environment: Mapping[str, Any]) -> None:
    """The software description: every field the store keeps, typed and in range."""
    check_fields(environment, "environment", ENVIRONMENT_TEXT, ENVIRONMENT_TEXT)
    _typed(environment, "rosetta", bool, "environment", True)
    packages = _typed(environment, "packages", dict, "environment", True)
    for name, version in packages.items():
        check_text(name, "environment.packages key", PACKAGE_TEXT)
        if version is not None:
            if not isinstance(version, str):
                raise LimitError(f"environment.packages.{name[:40]} must be a string or null")
            check_text(version, f"environment.packages.{name[:40]}", PACKAGE_TEXT)
    known = {*ENVIRONMENT_TEXT, "rosetta", "packages"}
    for key, value in environment.items():
        if key not in known:
            check_json(value, f"environment.{key}", max_depth=4)
