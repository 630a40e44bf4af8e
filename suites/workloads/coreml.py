"""PyTorch models converted to Core ML: export, conversion per precision, weight
compression (int8 linear quantization, 4-bit k-means palettization), package size, and a
structural check of what was produced (prediction itself needs macOS)."""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

PRECISIONS = ["float32", "float16", "int8", "palettized4"]
COMPUTE_UNITS = ["ALL", "CPU_ONLY", "CPU_AND_GPU", "CPU_AND_NE"]
MODELS = {"quick": ["resnet50"], "full": ["resnet50", "minilm"]}
PREDICT_BATCHES = {"quick": [1, 4], "full": [1, 4, 8, 16]}
# The op each compression leaves in the program: proof the weights really are compressed.
COMPRESSED_OP = {"int8": "constexpr_affine_dequantize", "palettized4": "constexpr_lut_to_dense"}


@contextlib.contextmanager
def _quiet_converter() -> Iterator[None]:
    """coremltools and torch.export warn about their own deprecations and untested
    version pairs while converting; none of it concerns the model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


class _MeanPooledBert:
    """all-MiniLM-L6-v2 as Core ML sees it: token ids and mask in, a 384-d vector out."""

    @staticmethod
    def build() -> Any:
        import torch

        from workloads.embedding import model

        bert = model("cpu")[0].auto_model.eval()

        class Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
                hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

        return Pooled().eval()


def source(name: str, profile: str, batch: int) -> tuple[Any, tuple[Any, ...], list[Any]]:
    """(torch module, example inputs, Core ML input types) for `name` at `batch`."""
    import coremltools as ct
    import torch

    if name == "resnet50":
        from workloads import resnet

        size = resnet.RESOLUTION[profile]
        example = (resnet.images(batch, size),)
        return (
            resnet.resnet50(resnet.WIDTH[profile]),
            example,
            [ct.TensorType(name="image", shape=example[0].shape)],
        )
    from workloads.embedding import MAX_TOKENS

    ids = torch.randint(0, 30522, (batch, MAX_TOKENS), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    types = [
        ct.TensorType(name="ids", shape=ids.shape, dtype=np.int32),
        ct.TensorType(name="mask", shape=mask.shape, dtype=np.int32),
    ]
    return _MeanPooledBert.build(), (ids, mask), types


def export(module: Any, example: tuple[Any, ...]) -> Any:
    import torch

    with _quiet_converter():
        return torch.export.export(module, example).run_decompositions({})


@functools.lru_cache(maxsize=8)
def exported(name: str, profile: str, batch: int) -> tuple[Any, list[Any]]:
    """The exported program and input types of `source(...)`, made once a session (an
    export takes seconds; the benchmarks that do not time it share this one)."""
    module, example, types = source(name, profile, batch)
    return export(module, example), types


def convert(exported: Any, inputs: list[Any], precision: str) -> Any:
    """An ML program at float32 or float16 compute precision."""
    import coremltools as ct

    compute = ct.precision.FLOAT32 if precision == "float32" else ct.precision.FLOAT16
    with _quiet_converter():
        return ct.convert(
            exported,
            inputs=inputs,
            outputs=[ct.TensorType(name="output")],
            convert_to="mlprogram",
            compute_precision=compute,
            minimum_deployment_target=ct.target.macOS14,
        )


def compress(model: Any, precision: str) -> Any:
    """Weights of a float16 program as int8 (per-channel symmetric) or 4-bit k-means."""
    from coremltools.optimize.coreml import (
        OpLinearQuantizerConfig,
        OpPalettizerConfig,
        OptimizationConfig,
        linear_quantize_weights,
        palettize_weights,
    )

    with _quiet_converter():
        if precision == "int8":
            config = OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8")
            return linear_quantize_weights(model, OptimizationConfig(global_config=config))
        config = OpPalettizerConfig(mode="kmeans", nbits=4)
        return palettize_weights(model, OptimizationConfig(global_config=config))


def package_size(model: Any, folder: Path, name: str) -> int:
    """Bytes of the saved .mlpackage (what an app ships)."""
    path = folder / f"{name}.mlpackage"
    model.save(str(path))
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def op_counts(model: Any) -> Counter[str]:
    spec = model.get_spec()
    return Counter(
        op.type
        for function in spec.mlProgram.functions.values()
        for block in function.block_specializations.values()
        for op in block.operations
    )


def check_structure(model: Any, precision: str, input_names: list[str]) -> None:
    """The program takes the inputs asked for, and its weights are in the asked precision."""
    spec = model.get_spec()
    assert [i.name for i in spec.description.input] == input_names
    assert [o.name for o in spec.description.output] == ["output"]
    ops = op_counts(model)
    if precision in COMPRESSED_OP:
        assert ops[COMPRESSED_OP[precision]] > 0, (
            f"no {COMPRESSED_OP[precision]} op: not compressed"
        )
    else:
        assert not any(op.startswith("constexpr_") for op in ops), "weights are compressed"
