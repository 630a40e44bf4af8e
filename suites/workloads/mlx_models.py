"""The transformers of `transformer.py` in MLX, loaded with the same weights. Linear layers
are `nn.Linear` so `nn.quantize` can turn them into 4-bit `QuantizedLinear`."""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from workloads.transformer import Config, Weights

MLX_DTYPES = {"float32": mx.float32, "float16": mx.float16, "bfloat16": mx.bfloat16}


def _linear(w: np.ndarray, b: np.ndarray | None = None) -> nn.Linear:
    layer = nn.Linear(w.shape[0], w.shape[1], bias=b is not None)
    layer.weight = mx.array(w.T)  # MLX stores (out, in)
    if b is not None:
        layer.bias = mx.array(b)
    return layer


def _heads(x: mx.array, cfg: Config) -> mx.array:
    b, s, _ = x.shape
    return x.reshape(b, s, cfg.heads, cfg.head_dim).transpose(0, 2, 1, 3)


def _merge(x: mx.array) -> mx.array:
    b, h, s, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)


def gelu(x: mx.array) -> mx.array:
    # a Python float keeps x's dtype; a NumPy float64 scalar would promote float16 to float32
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


class EncoderLayer(nn.Module):
    def __init__(self, w: Weights, i: int) -> None:
        super().__init__()
        for name in ("q", "k", "v", "o", "up", "down"):
            setattr(self, name, _linear(w[f"{i}.{name}.w"], w[f"{i}.{name}.b"]))
        # lists, not tuples: a Module's parameters are arrays in dicts and lists, so only
        # then does `set_dtype` cast them (a float32 norm would promote the whole layer)
        self.ln1 = [mx.array(w[f"{i}.ln1.g"]), mx.array(w[f"{i}.ln1.b"])]
        self.ln2 = [mx.array(w[f"{i}.ln2.g"]), mx.array(w[f"{i}.ln2.b"])]


class Encoder(nn.Module):
    def __init__(self, w: Weights, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok, self.pos = mx.array(w["tok"]), mx.array(w["pos"])
        self.ln_e = [mx.array(w["ln_e.g"]), mx.array(w["ln_e.b"])]
        self.layers = [EncoderLayer(w, i) for i in range(cfg.layers)]
        self.pool, self.cls = _linear(w["pool.w"], w["pool.b"]), _linear(w["cls.w"], w["cls.b"])

    def __call__(self, ids: mx.array) -> mx.array:
        cfg = self.cfg
        x = mx.fast.layer_norm(self.tok[ids] + self.pos[: ids.shape[1]], *self.ln_e, 1e-5)
        scale = cfg.head_dim**-0.5
        for layer in self.layers:
            q, k, v = (_heads(f(x), cfg) for f in (layer.q, layer.k, layer.v))
            a = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale)
            x = mx.fast.layer_norm(x + layer.o(_merge(a)), *layer.ln1, 1e-5)
            x = mx.fast.layer_norm(x + layer.down(gelu(layer.up(x))), *layer.ln2, 1e-5)
        return self.cls(mx.tanh(self.pool(x[:, 0])))


class DecoderLayer(nn.Module):
    def __init__(self, w: Weights, i: int) -> None:
        super().__init__()
        for name in ("q", "k", "v", "o", "gate", "up", "down"):
            setattr(self, name, _linear(w[f"{i}.{name}"]))
        self.norm1, self.norm2 = mx.array(w[f"{i}.norm1"]), mx.array(w[f"{i}.norm2"])


Cache = list[tuple[mx.array, mx.array]]


class Decoder(nn.Module):
    """Causal LM with a key/value cache: `model(ids, cache)` returns (logits, cache)."""

    def __init__(self, w: Weights, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = mx.array(w["tok"])
        self.layers = [DecoderLayer(w, i) for i in range(cfg.layers)]
        self.norm, self.head = mx.array(w["norm"]), _linear(w["head"])

    def __call__(self, ids: mx.array, cache: Cache | None = None) -> tuple[mx.array, Cache]:
        cfg = self.cfg
        offset = 0 if cache is None else cache[0][0].shape[2]
        x = self.tok[ids]
        new_cache: Cache = []
        for i, layer in enumerate(self.layers):
            h = mx.fast.rms_norm(x, layer.norm1, 1e-5)
            q = mx.fast.rope(
                _heads(layer.q(h), cfg),
                cfg.head_dim,
                traditional=False,
                base=10000.0,
                scale=1.0,
                offset=offset,
            )
            k = mx.fast.rope(
                _heads(layer.k(h), cfg),
                cfg.head_dim,
                traditional=False,
                base=10000.0,
                scale=1.0,
                offset=offset,
            )
            v = _heads(layer.v(h), cfg)
            if cache is not None:
                k = mx.concatenate([cache[i][0], k], axis=2)
                v = mx.concatenate([cache[i][1], v], axis=2)
            new_cache.append((k, v))
            mask = "causal" if q.shape[2] > 1 else None
            a = mx.fast.scaled_dot_product_attention(q, k, v, scale=cfg.head_dim**-0.5, mask=mask)
            x = x + layer.o(_merge(a))
            h = mx.fast.rms_norm(x, layer.norm2, 1e-5)
            x = x + layer.down(nn.silu(layer.gate(h)) * layer.up(h))
        return self.head(mx.fast.rms_norm(x[:, -1], self.norm, 1e-5)), new_cache


def decode(model: Decoder, logits: mx.array, cache: Cache, steps: int) -> tuple[mx.array, mx.array]:
    """Greedy decoding of `steps` tokens after a prefill's (logits, cache): (tokens, the
    logits after the last one). The cache is not modified, so a call can be repeated."""
    out = []
    for _ in range(steps):
        token = mx.argmax(logits, axis=-1, keepdims=True)
        out.append(token)
        logits, cache = model(token, cache)
    return mx.concatenate(out, axis=1), logits


def cast(model: nn.Module, dtype: str) -> nn.Module:
    model.set_dtype(MLX_DTYPES[dtype])
    return model


def dequantized(model: Decoder) -> Weights:
    """The weights a 4-bit model actually computes with, for its float64 reference."""
    w: Weights = {"tok": np.array(model.tok.astype(mx.float32)), "norm": np.array(model.norm)}

    def dense(layer: nn.Module) -> np.ndarray:
        if isinstance(layer, nn.QuantizedLinear):
            full = mx.dequantize(
                layer.weight, layer.scales, layer.biases, layer.group_size, layer.bits
            )
        else:
            full = layer.weight
        return np.array(full.astype(mx.float32)).T

    for i, layer in enumerate(model.layers):
        for name in ("q", "k", "v", "o", "gate", "up", "down"):
            w[f"{i}.{name}"] = dense(getattr(layer, name))
        w[f"{i}.norm1"], w[f"{i}.norm2"] = np.array(layer.norm1), np.array(layer.norm2)
    w["head"] = dense(model.head)
    return w
