"""Attention, softmax and layer norm in PyTorch, eager and `torch.compile`d (where the
compiler works on this device; its first call, the compilation, is the cold start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from workloads import kernels
from workloads.tolerance import assert_close, precision


def _skip_if_compiler_fails(compiled: Callable[..., Any]) -> Callable[..., Any]:
    """The compiled function; its first call skips the benchmark, with the compiler's own
    message, when torch.compile cannot build it here (the eager check passed already)."""
    from torch._dynamo.exc import BackendCompilerFailed, Unsupported
    from torch._inductor.exc import InductorError

    calls = 0

    def run(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            return compiled(*args)
        try:
            return compiled(*args)
        except (BackendCompilerFailed, InductorError, Unsupported) as exc:
            pytest.skip(f"torch.compile fails here: {str(exc).splitlines()[0][:200]}")

    return run


@pytest.mark.perf_sizes("seq", quick=kernels.SEQ["quick"], full=kernels.SEQ["full"])
@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_kernel(perf, kernel: str, seq: int, mode: str) -> None:
    backend = perf.use("torch", dtype="float32")
    import torch
    import torch.nn.functional as F

    arrays = kernels.inputs(kernel, seq)
    args = [torch.from_numpy(x).to(backend.device) for x in arrays]
    functions = {
        "sdpa": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        "softmax": lambda x, _g, _b: torch.softmax(x, dim=-1),
        "layer_norm": lambda x, g, b: F.layer_norm(x, (x.shape[-1],), g, b, 1e-5),
    }
    reference = kernels.reference(kernel, arrays)
    # Only attention multiplies matrices; softmax and layer norm stay float32 anywhere.
    checked = precision(perf.params) if kernel == "sdpa" else "float32"

    def check(out: torch.Tensor) -> None:
        assert_close(out.cpu().numpy(), reference, checked)

    eager = functions[kernel]
    if mode == "eager":
        fn = eager
    else:
        check(eager(*args))  # a compiler failure below is then the compiler's, not ours
        fn = _skip_if_compiler_fails(torch.compile(eager, dynamic=False))
    with torch.inference_mode():
        perf(fn, *args, items=kernels.flops(kernel, seq), unit="GFLOP", check=check)
