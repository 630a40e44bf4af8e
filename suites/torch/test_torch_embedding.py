"""Sentence embeddings (all-MiniLM-L6-v2, 384-d) in PyTorch: sentences/s per batch,
tokenization included, as `SentenceTransformer.encode` is called in production."""

from __future__ import annotations

import pytest

from workloads import embedding


@pytest.mark.perf_sizes("batch", quick=embedding.BATCHES["quick"], full=embedding.BATCHES["full"])
def test_sentence_embedding(perf, batch: int) -> None:
    backend = perf.use("torch", dtype="float32")
    model = embedding.model(backend.device)
    sentences = embedding.batch_of(batch)
    perf.param(batch=batch, model="all-MiniLM-L6-v2")

    def check(vectors: object) -> None:
        embedding.check_semantics(vectors)
        if backend.device != "cpu":  # the device agrees with the CPU's float32 path
            import torch

            reference = embedding.model("cpu").encode(sentences, convert_to_tensor=True)
            assert torch.allclose(vectors.cpu(), reference, atol=1e-3)  # type: ignore[attr-defined]

    perf(
        lambda: model.encode(sentences, batch_size=batch, convert_to_tensor=True),
        items=batch,
        unit="sentences",
        check=check,
    )
