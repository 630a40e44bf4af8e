"""BERT-shaped text classification in PyTorch: latency per batch and sequences/s."""

from __future__ import annotations

import pytest

from workloads import cuda_events, encoder
from workloads.tolerance import precision


@pytest.mark.perf_sizes("batch", quick=encoder.BATCHES["quick"], full=encoder.BATCHES["full"])
@pytest.mark.perf_sizes("dtype", quick=encoder.DTYPES["quick"], full=encoder.DTYPES["full"])
def test_encoder_classify(perf, batch: int, dtype: str) -> None:
    backend = perf.use("torch", dtype=dtype)
    import torch

    from workloads.torch_models import Encoder, on

    cfg, weights, ids, seq = encoder.setup(perf.profile, batch)
    perf.param(batch=batch, seq_len=seq, layers=cfg.layers, hidden=cfg.hidden)
    model = on(backend.device, dtype, Encoder(weights, cfg))
    ids_t = torch.from_numpy(ids).long().to(backend.device)
    check = encoder.checker(
        weights, cfg, ids, precision(perf.params), lambda out: out.float().cpu().numpy()
    )

    def classify() -> torch.Tensor:
        with torch.inference_mode():
            return model(ids_t)

    perf(classify, items=batch, unit="sequences", check=check)
    cuda_events.record_alongside(perf, backend.device, classify)
