"""Matrix multiply in PyTorch on the best device (MPS, then CUDA, then CPU)."""

from __future__ import annotations

import pytest

from workloads import cuda_events, gemm
from workloads.tolerance import precision


@pytest.mark.perf_sizes("n", quick=gemm.SIZES["quick"], full=gemm.SIZES["full"])
@pytest.mark.parametrize("dtype", gemm.DTYPES)
def test_gemm(perf, n: int, dtype: str) -> None:
    backend = perf.use("torch", dtype=dtype)
    import torch

    a32, b32 = gemm.inputs(n)
    a = torch.from_numpy(a32).to(backend.device, getattr(torch, dtype))
    b = torch.from_numpy(b32).to(backend.device, getattr(torch, dtype))
    as_seen = [x.float().cpu().numpy() for x in (a, b)]
    check = gemm.checker(*as_seen, precision(perf.params), lambda out: out.float().cpu().numpy())
    perf(lambda: a @ b, items=gemm.gflop(n), unit="GFLOP", dtype=dtype, check=check)
    cuda_events.record_alongside(perf, backend.device, lambda: a @ b)
