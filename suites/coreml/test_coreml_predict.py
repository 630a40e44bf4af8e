"""Core ML prediction per compute unit and batch size, and model load (compile) time
apart from prediction. Needs macOS; elsewhere each skips with the reason."""

from __future__ import annotations

import pytest

from workloads import coreml
from workloads.tolerance import assert_close


@pytest.mark.perf_sizes("model", quick=coreml.MODELS["quick"], full=coreml.MODELS["full"])
@pytest.mark.parametrize("units", coreml.COMPUTE_UNITS)
def test_load(perf, coreml_packages, model: str, units: str) -> None:
    """Loading a float16 package: the first load compiles it for the chosen units (the
    Neural Engine's compile can take minutes); later loads hit the system's cache."""
    perf.use("coreml", device=units)
    import coremltools as ct

    path, _inputs, _reference = coreml_packages.get(model, perf.profile, 1)
    perf.param(model=model, precision="float16")
    perf(
        lambda: ct.models.MLModel(str(path), compute_units=ct.ComputeUnit[units]),
        rounds=3,
        warmup=0,
    )


@pytest.mark.perf_sizes(
    "batch", quick=coreml.PREDICT_BATCHES["quick"], full=coreml.PREDICT_BATCHES["full"]
)
@pytest.mark.perf_sizes("model", quick=coreml.MODELS["quick"], full=coreml.MODELS["full"])
@pytest.mark.parametrize("units", coreml.COMPUTE_UNITS)
def test_predict(perf, coreml_packages, model: str, units: str, batch: int) -> None:
    perf.use("coreml", device=units)
    import coremltools as ct

    path, inputs, reference = coreml_packages.get(model, perf.profile, batch)
    perf.param(model=model, precision="float16", batch=batch)
    loaded = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit[units])
    unit = "images" if model == "resnet50" else "sentences"
    perf(
        lambda: loaded.predict(inputs),
        items=batch,
        unit=unit,
        check=lambda out: assert_close(out["output"], reference, "float16"),
    )
