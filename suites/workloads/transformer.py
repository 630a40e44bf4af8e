"""Transformer shapes, seeded weights and the float64 NumPy forward passes that every
framework's output is checked against.

Encoder: BERT-base shaped (post-norm, GELU, classification head). Decoder: Llama shaped
(pre-norm RMSNorm, rotary positions, SwiGLU, causal attention, untied LM head).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Weights = dict[str, np.ndarray]


@dataclass(frozen=True)
class Config:
    vocab: int
    hidden: int
    heads: int
    layers: int
    ffn: int
    max_seq: int
    classes: int = 2

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


ENCODER = {
    "quick": Config(vocab=1000, hidden=128, heads=4, layers=2, ffn=512, max_seq=64),
    "full": Config(vocab=30522, hidden=768, heads=12, layers=12, ffn=3072, max_seq=512),
}
DECODER = {
    "quick": Config(vocab=1000, hidden=128, heads=4, layers=2, ffn=384, max_seq=256),
    "full": Config(vocab=32000, hidden=1024, heads=16, layers=12, ffn=2816, max_seq=2048),
}


def encoder_weights(cfg: Config, seed: int = 0) -> Weights:
    rng = np.random.default_rng(seed)

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    h, f = cfg.hidden, cfg.ffn
    w: Weights = {"tok": normal(cfg.vocab, h), "pos": normal(cfg.max_seq, h)}
    w["ln_e.g"], w["ln_e.b"] = np.ones(h, np.float32), np.zeros(h, np.float32)
    for i in range(cfg.layers):
        for name, shape in (
            ("q", (h, h)),
            ("k", (h, h)),
            ("v", (h, h)),
            ("o", (h, h)),
            ("up", (h, f)),
            ("down", (f, h)),
        ):
            w[f"{i}.{name}.w"] = normal(*shape)
            w[f"{i}.{name}.b"] = normal(shape[1])
        for ln in ("ln1", "ln2"):
            w[f"{i}.{ln}.g"], w[f"{i}.{ln}.b"] = np.ones(h, np.float32), np.zeros(h, np.float32)
    w["pool.w"], w["pool.b"] = normal(h, h), normal(h)
    w["cls.w"], w["cls.b"] = normal(h, cfg.classes), normal(cfg.classes)
    return w


def decoder_weights(cfg: Config, seed: int = 0) -> Weights:
    rng = np.random.default_rng(seed)

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    h, f = cfg.hidden, cfg.ffn
    w: Weights = {"tok": (rng.standard_normal((cfg.vocab, h)) * 0.02).astype(np.float32)}
    for i in range(cfg.layers):
        for name, shape in (
            ("q", (h, h)),
            ("k", (h, h)),
            ("v", (h, h)),
            ("o", (h, h)),
            ("gate", (h, f)),
            ("up", (h, f)),
            ("down", (f, h)),
        ):
            w[f"{i}.{name}"] = normal(*shape)
        w[f"{i}.norm1"], w[f"{i}.norm2"] = np.ones(h, np.float32), np.ones(h, np.float32)
    w["norm"], w["head"] = np.ones(h, np.float32), normal(h, cfg.vocab)
    return w


def tokens(cfg: Config, batch: int, seq: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, cfg.vocab, size=(batch, seq), dtype=np.int32)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: every framework here computes exactly this formula."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def rms_norm(x: np.ndarray, g: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * g


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """(batch, heads, seq, dim) scaled dot-product attention."""
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if causal:
        n, m = scores.shape[-2:]
        mask = np.triu(np.ones((n, m), bool), k=m - n + 1)
        scores = np.where(mask, -np.inf, scores)
    return softmax(scores) @ v


def _heads(x: np.ndarray, cfg: Config) -> np.ndarray:
    b, s, _ = x.shape
    return x.reshape(b, s, cfg.heads, cfg.head_dim).transpose(0, 2, 1, 3)


def _merge(x: np.ndarray) -> np.ndarray:
    b, h, s, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, s, h * d)


def encoder_reference(w: Weights, cfg: Config, ids: np.ndarray) -> np.ndarray:
    """Class logits (batch, classes) in float64."""
    w64 = {k: v.astype(np.float64) for k, v in w.items()}
    x = layer_norm(w64["tok"][ids] + w64["pos"][: ids.shape[1]], w64["ln_e.g"], w64["ln_e.b"])
    for i in range(cfg.layers):

        def lin(t: np.ndarray, name: str, i: int = i) -> np.ndarray:
            return t @ w64[f"{i}.{name}.w"] + w64[f"{i}.{name}.b"]

        a = attention(
            _heads(lin(x, "q"), cfg), _heads(lin(x, "k"), cfg), _heads(lin(x, "v"), cfg), False
        )
        x = layer_norm(x + lin(_merge(a), "o"), w64[f"{i}.ln1.g"], w64[f"{i}.ln1.b"])
        x = layer_norm(x + lin(gelu(lin(x, "up")), "down"), w64[f"{i}.ln2.g"], w64[f"{i}.ln2.b"])
    pooled = np.tanh(x[:, 0] @ w64["pool.w"] + w64["pool.b"])
    return pooled @ w64["cls.w"] + w64["cls.b"]


def rope(x: np.ndarray, offset: int) -> np.ndarray:
    """Rotary positions on (batch, heads, seq, dim), halves convention, theta 10000."""
    d = x.shape[-1]
    inv = 1.0 / (10000 ** (np.arange(0, d, 2) / d))
    angles = np.arange(offset, offset + x.shape[-2])[:, None] * inv[None, :]
    cos, sin = np.cos(angles), np.sin(angles)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


def decoder_reference(w: Weights, cfg: Config, ids: np.ndarray) -> np.ndarray:
    """Next-token logits (batch, vocab) after the whole sequence, float64, no cache."""
    w64 = {k: v.astype(np.float64) for k, v in w.items()}
    x = w64["tok"][ids]
    for i in range(cfg.layers):
        h = rms_norm(x, w64[f"{i}.norm1"])
        q = rope(_heads(h @ w64[f"{i}.q"], cfg), 0)
        k = rope(_heads(h @ w64[f"{i}.k"], cfg), 0)
        x = x + _merge(attention(q, k, _heads(h @ w64[f"{i}.v"], cfg), True)) @ w64[f"{i}.o"]
        h = rms_norm(x, w64[f"{i}.norm2"])
        gate = h @ w64[f"{i}.gate"]
        x = x + (gate / (1 + np.exp(-gate)) * (h @ w64[f"{i}.up"])) @ w64[f"{i}.down"]
    return rms_norm(x[:, -1], w64["norm"]) @ w64["head"]
