"""Matrix multiply in MLX on its default device (the GPU on Apple Silicon)."""

from __future__ import annotations

import numpy as np
import pytest

from workloads import gemm
from workloads.tolerance import precision


@pytest.mark.perf_sizes("n", quick=gemm.SIZES["quick"], full=gemm.SIZES["full"])
@pytest.mark.parametrize("dtype", gemm.DTYPES)
def test_gemm(perf, n: int, dtype: str) -> None:
    perf.use("mlx", dtype=dtype)
    import mlx.core as mx

    a32, b32 = gemm.inputs(n)
    a, b = mx.array(a32).astype(getattr(mx, dtype)), mx.array(b32).astype(getattr(mx, dtype))
    as_seen = [np.array(x.astype(mx.float32)) for x in (a, b)]
    check = gemm.checker(
        *as_seen, precision(perf.params), lambda out: np.array(out.astype(mx.float32))
    )
    perf(lambda: a @ b, items=gemm.gflop(n), unit="GFLOP", dtype=dtype, check=check)
