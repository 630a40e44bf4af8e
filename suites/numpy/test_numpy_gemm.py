"""Matrix multiply on NumPy's BLAS (Accelerate on macOS, OpenBLAS on Linux)."""

from __future__ import annotations

import numpy as np
import pytest

from workloads import gemm


@pytest.mark.perf_sizes("n", quick=gemm.SIZES["quick"], full=gemm.SIZES["full"])
@pytest.mark.parametrize("dtype", gemm.DTYPES)
def test_gemm(perf, n: int, dtype: str) -> None:
    perf.use("numpy", dtype=dtype)
    if dtype == "bfloat16":
        pytest.skip("NumPy has no bfloat16")
    if dtype == "float16" and n >= 512:
        pytest.skip("NumPy has no half-precision BLAS: a float16 product this size takes seconds")
    a, b = (x.astype(dtype) for x in gemm.inputs(n))
    check = gemm.checker(a, b, dtype, np.asarray)
    perf(lambda: a @ b, items=gemm.gflop(n), unit="GFLOP", dtype=dtype, check=check)
