"""Matrix multiply on NumPy's BLAS (Accelerate on macOS, OpenBLAS on Linux)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.perf_sizes("n", quick=[128, 512], full=[1024, 4096, 8192])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm(perf, n: int, dtype: str) -> None:
    perf.use("numpy")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    reference = a[:8].astype(np.float64) @ b.astype(np.float64)

    def check(out: np.ndarray) -> None:
        np.testing.assert_allclose(out[:8], reference, rtol=1e-3, atol=1e-3 * np.sqrt(n))

    perf(lambda: a @ b, items=2 * n**3 / 1e9, unit="GFLOP", dtype=dtype, check=check)
