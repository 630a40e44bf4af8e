"""Llama-shaped text generation in MLX: time to first token, prefill and decode tokens/s,
full precision and 4-bit (`nn.quantize`), with the device's peak memory."""

from __future__ import annotations

import numpy as np
import pytest

from workloads import generation
from workloads.tolerance import precision


def _model(perf, quantization: str, dtype: str):  # type: ignore[no-untyped-def]
    perf.use("mlx", dtype=dtype)
    import mlx.nn as nn

    from workloads.mlx_models import Decoder, cast, dequantized

    cfg, weights, prompt = generation.setup(perf.profile)
    model = cast(Decoder(weights, cfg), dtype)
    if quantization == "int4":
        nn.quantize(model, group_size=generation.GROUP_SIZE, bits=4)
    perf.param(quantization=quantization, layers=cfg.layers, hidden=cfg.hidden)
    return model, cfg, prompt, (lambda: dequantized(model))


@pytest.mark.parametrize("quantization", generation.QUANTIZATION)
def test_prefill(perf, quantization: str) -> None:
    """Prompt to first token: latency is the time to first token."""
    import mlx.core as mx

    model, cfg, prompt, weights = _model(perf, quantization, "float32")
    perf.param(prompt_len=prompt.shape[1])
    prompt_m = mx.array(prompt)

    def first_token() -> tuple[mx.array, mx.array]:
        logits, _cache = model(prompt_m)
        return mx.argmax(logits, axis=-1), logits

    check = generation.prefill_checker(weights, cfg, prompt, precision(perf.params), np.array)
    perf(first_token, items=prompt.shape[1], unit="tokens", check=check)


@pytest.mark.parametrize("quantization", generation.QUANTIZATION)
def test_decode(perf, quantization: str) -> None:
    """Greedy decoding after the prompt's cache is built (outside the clock)."""
    import mlx.core as mx

    from workloads.mlx_models import decode

    model, cfg, prompt, weights = _model(perf, quantization, "float32")
    steps = generation.STEPS[perf.profile]
    perf.param(prompt_len=prompt.shape[1], new_tokens=steps)
    logits, cache = model(mx.array(prompt))
    mx.eval(logits, cache)
    check = generation.checker(weights, cfg, prompt, precision(perf.params), np.array)
    perf(lambda: decode(model, logits, cache, steps), items=steps, unit="tokens", check=check)
