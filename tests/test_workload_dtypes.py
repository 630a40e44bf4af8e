"""A benchmark named float16 computes in float16: every parameter of the suites' models
and every output is the dtype the benchmark records. An MLX norm kept in a tuple is not a
parameter, so `set_dtype` missed it, and a NumPy float64 constant promoted activations:
the "float16" MLX encoder ran in float32 from its first layer norm on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "suites"))

from workloads.transformer import DECODER, ENCODER, decoder_weights, encoder_weights, tokens

DTYPES = ["float16", "bfloat16", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlx_models_compute_in_their_dtype(dtype: str) -> None:
    mx = pytest.importorskip("mlx.core", reason="MLX is not installed")
    from mlx.utils import tree_flatten

    from workloads.mlx_models import MLX_DTYPES, Decoder, Encoder, cast

    want = MLX_DTYPES[dtype]
    enc_cfg, dec_cfg = ENCODER["quick"], DECODER["quick"]
    encoder = cast(Encoder(encoder_weights(enc_cfg), enc_cfg), dtype)
    decoder = cast(Decoder(decoder_weights(dec_cfg), dec_cfg), dtype)
    for model in (encoder, decoder):
        kinds = {v.dtype for _, v in tree_flatten(model.parameters())}
        assert kinds == {want}, (type(model).__name__, kinds)
    assert encoder(mx.array(tokens(enc_cfg, 2, 16))).dtype == want
    logits, cache = decoder(mx.array(tokens(dec_cfg, 2, 16)))
    assert logits.dtype == want and cache[0][0].dtype == want


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_models_compute_in_their_dtype(dtype: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from workloads.torch_models import TORCH_DTYPES, Decoder, Encoder, on

    want = TORCH_DTYPES[dtype]
    enc_cfg, dec_cfg = ENCODER["quick"], DECODER["quick"]
    encoder = on("cpu", dtype, Encoder(encoder_weights(enc_cfg), enc_cfg))
    decoder = on("cpu", dtype, Decoder(decoder_weights(dec_cfg), dec_cfg))
    for model in (encoder, decoder):
        kinds = {p.dtype for p in model.parameters()} | {b.dtype for b in model.buffers()}
        assert kinds == {want}, (type(model).__name__, kinds)
    with torch.no_grad():
        assert encoder(torch.from_numpy(tokens(enc_cfg, 2, 16))).dtype == want
        logits, _ = decoder(torch.from_numpy(tokens(dec_cfg, 2, 16)))
    assert logits.dtype == want
