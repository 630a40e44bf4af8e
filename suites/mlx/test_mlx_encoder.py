"""BERT-shaped text classification in MLX: latency per batch and sequences/s."""

from __future__ import annotations

import numpy as np
import pytest

from workloads import encoder
from workloads.tolerance import precision


@pytest.mark.perf_sizes("batch", quick=encoder.BATCHES["quick"], full=encoder.BATCHES["full"])
@pytest.mark.perf_sizes("dtype", quick=encoder.DTYPES["quick"], full=encoder.DTYPES["full"])
def test_encoder_classify(perf, batch: int, dtype: str) -> None:
    perf.use("mlx", dtype=dtype)
    import mlx.core as mx

    from workloads.mlx_models import Encoder, cast

    cfg, weights, ids, seq = encoder.setup(perf.profile, batch)
    perf.param(batch=batch, seq_len=seq, layers=cfg.layers, hidden=cfg.hidden)
    model = cast(Encoder(weights, cfg), dtype)
    ids_m = mx.array(ids)
    check = encoder.checker(
        weights, cfg, ids, precision(perf.params), lambda out: np.array(out.astype(mx.float32))
    )
    perf(lambda: model(ids_m), items=batch, unit="sequences", check=check)
