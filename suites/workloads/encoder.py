"""Text classification with a BERT-shaped encoder: sizes per profile and the reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from workloads.tolerance import assert_close
from workloads.transformer import ENCODER, Config, encoder_reference, encoder_weights, tokens

BATCHES = {"quick": [1, 4], "full": [1, 4, 8, 16]}
DTYPES = {"quick": ["float32"], "full": ["float32", "float16"]}
SEQ = {"quick": 32, "full": 128}


def setup(profile: str, batch: int) -> tuple[Config, dict[str, np.ndarray], np.ndarray, int]:
    cfg = ENCODER[profile]
    return cfg, encoder_weights(cfg), tokens(cfg, batch, SEQ[profile]), SEQ[profile]


def checker(
    weights: dict[str, np.ndarray],
    cfg: Config,
    ids: np.ndarray,
    dtype: str,
    to_numpy: Callable[[Any], np.ndarray],
) -> Callable[[Any], None]:
    reference = encoder_reference(weights, cfg, ids)

    def check(out: Any) -> None:
        assert_close(to_numpy(out), reference, dtype)

    return check
