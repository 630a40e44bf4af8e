"""Core ML from PyTorch: conversion time, and the .mlpackage's size at float32, float16,
int8 (linear quantization) and 4-bit (k-means palettization). Runs wherever coremltools
installs; what was produced is checked structurally (prediction needs macOS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workloads import coreml

ROUNDS = {"quick": 1, "full": 3}


def _coremltools() -> None:
    pytest.importorskip(
        "coremltools", reason="coremltools is not installed; pip install 'perfci[coreml]'"
    )


@pytest.mark.perf_sizes("model", quick=coreml.MODELS["quick"], full=coreml.MODELS["full"])
def test_convert(perf, model: str) -> None:
    """torch.export and ct.convert to a float16 ML program."""
    _coremltools()
    module, example, types = coreml.source(model, perf.profile, 1)
    perf.param(model=model, precision="float16", tool="coremltools")
    names = [t.name for t in types]
    perf(
        lambda: coreml.convert(coreml.export(module, example), types, "float16"),
        rounds=ROUNDS[perf.profile],
        warmup=0,
        check=lambda program: coreml.check_structure(program, "float16", names),
    )


@pytest.mark.perf_sizes("model", quick=coreml.MODELS["quick"], full=coreml.MODELS["full"])
@pytest.mark.parametrize("precision", coreml.PRECISIONS)
def test_package_size(perf, tmp_path: Path, model: str, precision: str) -> None:
    """Times the step that makes this precision (conversion, or compressing the float16
    program) and records the saved package's size."""
    _coremltools()
    exported, types = coreml.exported(model, perf.profile, 1)
    perf.param(model=model, precision=precision, tool="coremltools")
    if precision in ("float32", "float16"):

        def make() -> object:
            return coreml.convert(exported, types, precision)
    else:
        half = coreml.convert(exported, types, "float16")

        def make() -> object:
            return coreml.compress(half, precision)

    names = [t.name for t in types]
    program = perf(
        make,
        rounds=ROUNDS[perf.profile],
        warmup=0,
        check=lambda p: coreml.check_structure(p, precision, names),
    )
    perf.metric("package_size", coreml.package_size(program, tmp_path, precision), "bytes")
