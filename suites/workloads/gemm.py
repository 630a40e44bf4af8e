"""Matrix multiply inputs and their check, shared by every backend's GEMM benchmark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from workloads.tolerance import assert_close, dot_bound

SIZES = {"quick": [256, 512], "full": [1024, 2048, 4096, 8192]}
DTYPES = ["float32", "float16", "bfloat16"]
CHECKED_ROWS = 8


def inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n), np.float32), rng.standard_normal((n, n), np.float32)


def gflop(n: int) -> float:
    return 2 * n**3 / 1e9


def checker(
    a: np.ndarray, b: np.ndarray, dtype: str, to_numpy: Callable[[Any], np.ndarray]
) -> Callable[[Any], None]:
    """Check the first rows of a product against float64, from inputs already rounded to
    `dtype` (as the framework saw them), so only the product's own rounding counts."""
    rows = a[:CHECKED_ROWS].astype(np.float64) @ b.astype(np.float64)

    def check(out: Any) -> None:
        assert_close(to_numpy(out)[:CHECKED_ROWS], rows, dtype, dot_bound(dtype, a.shape[1]))

    return check
