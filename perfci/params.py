"""Benchmark parameters as plain JSON values, stable from run to run."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


class ParamError(ValueError):
    """A parameter value that cannot name a benchmark; the message says why."""


def _unstable(text: str) -> bool:
    return " at 0x" in text or " object at " in text  # a default repr changes every run


def plain_value(value: Any) -> str | int | float | bool | None:
    """`value` as a JSON scalar: numbers and strings as they are, non-finite floats and
    objects with a stable `str` (dtypes, enums) as text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = str(value)
    if _unstable(text):
        raise ParamError(f"parameter value {text} has no stable name; use a str or a number")
    return text


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): plain_value(v) for k, v in params.items()}


_UNSERIALIZABLE = "UNSERIALIZABLE["  # how pytest-benchmark's JSON writes other objects


def benchmark_params(
    params: Mapping[str, Any] | None,
    param_id: str | None,
    group: str | None,
    extra_info: Mapping[str, Any],
) -> dict[str, Any]:
    """Parameters of a plain pytest-benchmark benchmark, the same whether read from the
    live fixture or from pytest-benchmark's JSON: the parametrisation, the benchmark
    group, and the text, whole-number and true/false values of `extra_info` (which
    suites use to name sizes and variants; fractional values there are results, not
    names). A parametrised object with no stable name is named by pytest's test id
    (`param_id`) instead, so two such variants stay apart from run to run."""
    # pytest-benchmark's JSON writes what json cannot as UNSERIALIZABLE[repr]; the live
    # fixture's values take the same road, so both routes name a variant alike.
    as_json = json.loads(json.dumps(params or {}, default=lambda o: f"{_UNSERIALIZABLE}{o!r}]"))
    out: dict[str, Any] = {}
    unstable = False
    for key, value in as_json.items():
        if isinstance(value, str) and value.startswith(_UNSERIALIZABLE) and value.endswith("]"):
            value = value[len(_UNSERIALIZABLE) : -1]
            if _unstable(value):
                unstable = True
                continue
        try:
            out[str(key)] = plain_value(value)
        except ParamError:
            unstable = True
    if unstable and param_id:
        out["id"] = param_id
    if group:
        out["group"] = str(group)
    for key, value in extra_info.items():
        if key.startswith("perfci") or key in out:
            continue
        if value is None or isinstance(value, (str, bool, int)):
            out[str(key)] = value
    return out
