"""A ResNet-50-shaped image classifier in PyTorch, built in code with seeded weights."""

from __future__ import annotations

import torch
from torch import nn

BLOCKS = (3, 4, 6, 3)  # ResNet-50's bottleneck blocks per stage
# Quick: the same depth at a quarter of the width and 64x64 images; full: ResNet-50 itself.
WIDTH = {"quick": 0.25, "full": 1.0}
RESOLUTION = {"quick": 64, "full": 224}
BATCHES = {"quick": [1, 4], "full": [1, 4, 8, 16]}
CLASSES = 1000


class Bottleneck(nn.Module):
    def __init__(self, inputs: int, width: int, stride: int) -> None:
        super().__init__()
        outputs = width * 4
        self.body = nn.Sequential(
            nn.Conv2d(inputs, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, outputs, 1, bias=False),
            nn.BatchNorm2d(outputs),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.skip = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def resnet50(width: float = 1.0, seed: int = 0) -> nn.Module:
    """ResNet-50's layout with channel widths scaled by `width`, in eval mode."""
    torch.manual_seed(seed)
    base = max(8, int(64 * width))
    layers: list[nn.Module] = [
        nn.Conv2d(3, base, 7, 2, 3, bias=False),
        nn.BatchNorm2d(base),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    inputs = base
    for stage, blocks in enumerate(BLOCKS):
        stage_width = base * 2**stage
        for i in range(blocks):
            layers.append(Bottleneck(inputs, stage_width, 2 if i == 0 and stage > 0 else 1))
            inputs = stage_width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inputs, CLASSES)]
    model = nn.Sequential(*layers)
    # Random running statistics, so batch norm is not an identity a broken kernel could hide.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def images(batch: int, resolution: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(
        batch, 3, resolution, resolution, generator=torch.Generator().manual_seed(seed)
    )
