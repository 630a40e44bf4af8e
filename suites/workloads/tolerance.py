"""How close an output must be to its float64 reference, per dtype."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# Largest error allowed, as a fraction of the reference's root-mean-square: a few ulps of
# accumulated rounding at each precision, far below what a broken kernel produces.
# tf32: float32 products on TF32 tensor cores (float32's range, float16's 10-bit mantissa).
BOUND = {
    "float64": 1e-9,
    "float32": 1e-3,
    "tf32": 2e-2,
    "float16": 2e-2,
    "bfloat16": 8e-2,
    "int4": 0.15,
}


EPS = {
    "float64": 2.2e-16,
    "float32": 1.2e-7,
    "tf32": 9.8e-4,
    "float16": 9.8e-4,
    "bfloat16": 7.8e-3,
}


def precision(params: Mapping[str, Any]) -> str:
    """The precision a benchmark's products compute in, which its check allows for: tf32
    when its recorded `matmul_precision` or `conv_precision` says float32 ran on TF32
    tensor cores, else the recorded precision, else the dtype."""
    named = [params.get(k) for k in ("matmul_precision", "conv_precision")]
    if "tf32" in named:
        return "tf32"
    return str(next((p for p in named if p), None) or params["dtype"])


def dot_bound(dtype: str, length: int) -> float:
    """Bound for dot products of `length` terms: rounding grows like √length."""
    return 8 * EPS[dtype] * max(length, 16) ** 0.5


def assert_close(actual: Any, expected: Any, dtype: str, bound: float | None = None) -> None:
    """`actual` within `bound` (default: `dtype`'s) of `expected`, measured against the
    reference's RMS (elementwise relative error is meaningless near zero)."""
    got = np.asarray(actual, dtype=np.float64)
    ref = np.asarray(expected, dtype=np.float64)
    if got.shape != ref.shape:
        raise AssertionError(f"shape {got.shape} != reference {ref.shape}")
    if not np.all(np.isfinite(got)):
        raise AssertionError("output holds NaN or infinity")
    rms = float(np.sqrt(np.mean(ref**2))) or 1.0
    error = float(np.max(np.abs(got - ref))) / rms
    limit = BOUND[dtype] if bound is None else bound
    if error > limit:
        raise AssertionError(
            f"max error is {error:.3g} of the output's RMS; {dtype} allows {limit:.3g}"
        )
