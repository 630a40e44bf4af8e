"""Llama-shaped text generation in PyTorch: time to first token, prefill and decode
tokens/s. 4-bit weights need a quantization library beyond torch itself: skipped."""

from __future__ import annotations

import pytest

from workloads import generation
from workloads.tolerance import precision

NO_INT4 = (
    "torch has no public 4-bit weight quantization of its own (torch.ao.quantization is "
    "deprecated; 4-bit needs torchao)"
)


def _model(perf, quantization: str, dtype: str):  # type: ignore[no-untyped-def]
    backend = perf.use("torch", dtype=dtype)
    perf.param(quantization=quantization)
    if quantization == "int4":
        pytest.skip(NO_INT4)
    from workloads.torch_models import Decoder, on

    cfg, weights, prompt = generation.setup(perf.profile)
    perf.param(layers=cfg.layers, hidden=cfg.hidden)
    return on(backend.device, dtype, Decoder(weights, cfg)), backend.device, cfg, weights, prompt


@pytest.mark.parametrize("quantization", generation.QUANTIZATION)
def test_prefill(perf, quantization: str) -> None:
    """Prompt to first token: latency is the time to first token."""
    import torch

    model, device, cfg, weights, prompt = _model(perf, quantization, "float32")
    perf.param(prompt_len=prompt.shape[1])
    prompt_t = torch.from_numpy(prompt).long().to(device)

    def first_token() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            logits, _cache = model(prompt_t)
            return logits.argmax(-1), logits

    check = generation.prefill_checker(
        lambda: weights, cfg, prompt, precision(perf.params), lambda t: t.float().cpu().numpy()
    )
    perf(first_token, items=prompt.shape[1], unit="tokens", check=check)


@pytest.mark.parametrize("quantization", generation.QUANTIZATION)
def test_decode(perf, quantization: str) -> None:
    """Greedy decoding after the prompt's cache is built (outside the clock)."""
    import torch

    from workloads.torch_models import decode

    model, device, cfg, weights, prompt = _model(perf, quantization, "float32")
    steps = generation.STEPS[perf.profile]
    perf.param(prompt_len=prompt.shape[1], new_tokens=steps)
    with torch.inference_mode():
        logits, cache = model(torch.from_numpy(prompt).long().to(device))

    def generate() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            return decode(model, logits, cache, steps)

    check = generation.checker(
        lambda: weights, cfg, prompt, precision(perf.params), lambda t: t.float().cpu().numpy()
    )
    perf(generate, items=steps, unit="tokens", check=check)
