"""Text generation with a Llama-shaped decoder: prefill (time to first token) and decode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from workloads.tolerance import assert_close
from workloads.transformer import DECODER, Config, decoder_reference, decoder_weights, tokens

PROMPT = {"quick": 64, "full": 512}
STEPS = {"quick": 16, "full": 128}
QUANTIZATION = ["none", "int4"]
GROUP_SIZE = 64


def setup(profile: str) -> tuple[Config, dict[str, np.ndarray], np.ndarray]:
    cfg = DECODER[profile]
    return cfg, decoder_weights(cfg), tokens(cfg, 1, PROMPT[profile])


def checker(
    weights: Callable[[], dict[str, np.ndarray]],
    cfg: Config,
    prompt: np.ndarray,
    dtype: str,
    to_numpy: Callable[[Any], np.ndarray],
) -> Callable[[Any], None]:
    """Checks (generated tokens, last logits): the logits must be the reference's for the
    prompt followed by the tokens the model chose. `weights` gives the weights the model
    computes with (dequantized ones for a 4-bit model)."""

    def check(out: Any) -> None:
        generated, logits = out
        sequence = np.concatenate([prompt, to_numpy(generated).astype(prompt.dtype)], axis=1)
        assert_close(to_numpy(logits), decoder_reference(weights(), cfg, sequence), dtype)

    return check


def prefill_checker(
    weights: Callable[[], dict[str, np.ndarray]],
    cfg: Config,
    prompt: np.ndarray,
    dtype: str,
    to_numpy: Callable[[Any], np.ndarray],
) -> Callable[[Any], None]:
    """Checks (first token, logits) of a prefill against the reference for the prompt."""

    def check(out: Any) -> None:
        assert_close(to_numpy(out[1]), decoder_reference(weights(), cfg, prompt), dtype)

    return check
