"""Attention, softmax and layer-norm kernels: shapes per profile and float64 references."""

from __future__ import annotations

import numpy as np

from workloads.transformer import attention, layer_norm, softmax

KERNELS = ["sdpa", "softmax", "layer_norm"]
SEQ = {"quick": [256], "full": [512, 2048, 8192]}
HEADS, HEAD_DIM, WIDTH = 8, 64, 4096


def inputs(kernel: str, seq: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """float32 inputs: (q, k, v) of (1, heads, seq, dim) for attention, else (x, gamma, beta)
    with x of (seq, width)."""
    rng = np.random.default_rng(seed)
    if kernel == "sdpa":
        return tuple(rng.standard_normal((1, HEADS, seq, HEAD_DIM), np.float32) for _ in range(3))
    return (
        rng.standard_normal((seq, WIDTH), np.float32),
        (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32),
        (0.1 * rng.standard_normal(WIDTH)).astype(np.float32),
    )


def reference(kernel: str, arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    a = [x.astype(np.float64) for x in arrays]
    if kernel == "sdpa":
        return attention(a[0], a[1], a[2], causal=False)
    if kernel == "softmax":
        return softmax(a[0])
    return layer_norm(a[0], a[1], a[2])


def flops(kernel: str, seq: int) -> float:
    """Work per call in GFLOP: attention's two matmuls; ~5 operations an element otherwise."""
    if kernel == "sdpa":
        return 4 * HEADS * seq * seq * HEAD_DIM / 1e9
    return 5 * seq * WIDTH / 1e9
