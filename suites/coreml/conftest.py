"""Core ML packages built once per session and shared by the prediction benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workloads import coreml


class Packages:
    """float16 .mlpackage files per (model, profile, batch), with the inputs and the
    torch float32 output each prediction is checked against."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._built: dict[tuple[str, str, int], tuple[Path, dict[str, Any], Any]] = {}

    def get(self, name: str, profile: str, batch: int) -> tuple[Path, dict[str, Any], Any]:
        key = (name, profile, batch)
        if key not in self._built:
            import numpy as np
            import torch

            module, example, types = coreml.source(name, profile, batch)
            program, _types = coreml.exported(name, profile, batch)
            model = coreml.convert(program, types, "float16")
            path = self._folder / f"{name}-{profile}-{batch}.mlpackage"
            model.save(str(path))
            with torch.inference_mode():
                reference = module(*example).numpy()
            inputs = {
                t.name: x.numpy().astype(np.int32 if x.dtype == torch.int64 else np.float32)
                for t, x in zip(types, example, strict=True)
            }
            self._built[key] = (path, inputs, reference)
        return self._built[key]


@pytest.fixture(scope="session")
def coreml_packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return Packages(tmp_path_factory.mktemp("coreml"))
