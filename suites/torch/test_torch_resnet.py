"""ResNet-50-shaped image classification in PyTorch: latency per batch and images/s."""

from __future__ import annotations

import pytest

from workloads import resnet
from workloads.tolerance import assert_close, precision


@pytest.mark.perf_sizes("batch", quick=resnet.BATCHES["quick"], full=resnet.BATCHES["full"])
def test_resnet50(perf, batch: int) -> None:
    backend = perf.use("torch", dtype="float32")
    import torch

    width, size = resnet.WIDTH[perf.profile], resnet.RESOLUTION[perf.profile]
    perf.param(batch=batch, width=width, resolution=size)
    if conv := backend.conv_precision("float32"):  # CUDA: cuDNN's TF32 is on by default
        perf.param(conv_precision=conv)
    model = resnet.resnet50(width)
    images = resnet.images(batch, size)
    with torch.inference_mode():
        reference = model.double()(images.double()).numpy()  # float64 on the CPU
    model = model.float().to(backend.device)
    inputs = images.to(backend.device)

    def classify() -> torch.Tensor:
        with torch.inference_mode():
            return model(inputs)

    perf(
        classify,
        items=batch,
        unit="images",
        check=lambda out: assert_close(out.cpu().numpy(), reference, precision(perf.params)),
    )
