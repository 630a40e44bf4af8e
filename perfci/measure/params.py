"""Benchmark parameters as plain JSON values, stable from run to run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ParamError(ValueError):
    """A parameter value that cannot name a benchmark; the message says why."""


def plain_value(value: Any) -> str | int | float | bool | None:
    """`value` as a JSON scalar: numbers and strings as they are, non-finite floats and
    objects with a stable `str` (dtypes, enums) as text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = str(value)
    if " at 0x" in text or " object at " in text:  # a default repr changes every run
        raise ParamError(f"parameter value {text} has no stable name; use a str or a number")
    return text


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): plain_value(v) for k, v in params.items()}
