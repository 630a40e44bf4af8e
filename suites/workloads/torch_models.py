"""The transformers of `transformer.py` in PyTorch, loaded with the same weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workloads.transformer import Config, Weights

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _param(array: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(array)), requires_grad=False)


def _heads(x: torch.Tensor, cfg: Config) -> torch.Tensor:
    b, s, _ = x.shape
    return x.view(b, s, cfg.heads, cfg.head_dim).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    b, h, s, d = x.shape
    return x.transpose(1, 2).reshape(b, s, h * d)


class Encoder(nn.Module):
    def __init__(self, w: Weights, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.w = nn.ParameterDict({k.replace(".", "_"): _param(v) for k, v in w.items()})

    def _p(self, name: str) -> torch.Tensor:
        return self.w[name.replace(".", "_")]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        cfg, p = self.cfg, self._p
        h = cfg.hidden
        x = F.layer_norm(p("tok")[ids] + p("pos")[: ids.shape[1]], (h,), p("ln_e.g"), p("ln_e.b"))
        for i in range(cfg.layers):

            def lin(t: torch.Tensor, name: str, i: int = i) -> torch.Tensor:
                return t @ p(f"{i}.{name}.w") + p(f"{i}.{name}.b")

            a = F.scaled_dot_product_attention(
                _heads(lin(x, "q"), cfg), _heads(lin(x, "k"), cfg), _heads(lin(x, "v"), cfg)
            )
            x = F.layer_norm(x + lin(_merge(a), "o"), (h,), p(f"{i}.ln1.g"), p(f"{i}.ln1.b"))
            up = F.gelu(lin(x, "up"), approximate="tanh")
            x = F.layer_norm(x + lin(up, "down"), (h,), p(f"{i}.ln2.g"), p(f"{i}.ln2.b"))
        pooled = torch.tanh(x[:, 0] @ p("pool.w") + p("pool.b"))
        return pooled @ p("cls.w") + p("cls.b")


def _rope(x: torch.Tensor, offset: int) -> torch.Tensor:
    d = x.shape[-1]
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    pos = torch.arange(offset, offset + x.shape[-2], device=x.device, dtype=torch.float32)
    angles = pos[:, None] * inv[None, :]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def _rms(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g


class Decoder(nn.Module):
    """Causal LM with a key/value cache: `forward(ids, cache)` returns (logits, cache)."""

    def __init__(self, w: Weights, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.w = nn.ParameterDict({k.replace(".", "_"): _param(v) for k, v in w.items()})

    def forward(
        self, ids: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        cfg, w = self.cfg, self.w
        offset = 0 if cache is None else cache[0][0].shape[2]
        x = w["tok"][ids]
        new_cache = []
        for i in range(cfg.layers):
            h = _rms(x, w[f"{i}_norm1"])
            q = _rope(_heads(h @ w[f"{i}_q"], cfg), offset)
            k = _rope(_heads(h @ w[f"{i}_k"], cfg), offset)
            v = _heads(h @ w[f"{i}_v"], cfg)
            if cache is not None:
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            new_cache.append((k, v))
            # Causal within the new tokens; a single new token sees the whole cache.
            a = F.scaled_dot_product_attention(q, k, v, is_causal=q.shape[2] > 1)
            x = x + _merge(a) @ w[f"{i}_o"]
            h = _rms(x, w[f"{i}_norm2"])
            x = x + (F.silu(h @ w[f"{i}_gate"]) * (h @ w[f"{i}_up"])) @ w[f"{i}_down"]
        return _rms(x[:, -1], w["norm"]) @ w["head"], new_cache


def decode(
    model: Decoder, logits: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor]], steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding of `steps` tokens after a prefill's (logits, cache): (tokens, the
    logits after the last one). The cache is not modified, so a call can be repeated."""
    out = []
    for _ in range(steps):
        token = logits.argmax(-1, keepdim=True)
        out.append(token)
        logits, cache = model(token, cache)
    return torch.cat(out, dim=1), logits


def on(device: str, dtype: str, module: nn.Module) -> Any:
    return module.to(device=device, dtype=TORCH_DTYPES[dtype]).eval()
