"""Attention, softmax and layer norm in MLX, eager and `mx.compile`d."""

from __future__ import annotations

import numpy as np
import pytest

from workloads import kernels
from workloads.tolerance import assert_close, precision


@pytest.mark.perf_sizes("seq", quick=kernels.SEQ["quick"], full=kernels.SEQ["full"])
@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_kernel(perf, kernel: str, seq: int, mode: str) -> None:
    perf.use("mlx", dtype="float32")
    import mlx.core as mx

    arrays = kernels.inputs(kernel, seq)
    args = [mx.array(x) for x in arrays]
    functions = {
        "sdpa": lambda q, k, v: mx.fast.scaled_dot_product_attention(
            q, k, v, scale=kernels.HEAD_DIM**-0.5
        ),
        "softmax": lambda x, _g, _b: mx.softmax(x, axis=-1),
        "layer_norm": lambda x, g, b: mx.fast.layer_norm(x, g, b, 1e-5),
    }
    fn = functions[kernel] if mode == "eager" else mx.compile(functions[kernel])
    reference = kernels.reference(kernel, arrays)
    # Only attention multiplies matrices; softmax and layer norm stay float32 anywhere.
    checked = precision(perf.params) if kernel == "sdpa" else "float32"
    perf(
        fn,
        *args,
        items=kernels.flops(kernel, seq),
        unit="GFLOP",
        check=lambda out: assert_close(np.array(out), reference, checked),
    )
