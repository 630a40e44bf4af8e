"""Core ML benchmarks (macOS): the compute plan of each model the benchmark predicts with.

`coremltools.models.compute_plan.MLComputePlan` says, per operation of an ML Program (or
layer of a neural network), which device Core ML prefers to run it on and, for ML
Program operations, its estimated share of the model's work. The plan is what Core ML
decides, not a timing: base and head compare exactly, with no noise to weigh. The
models are the ones whose `predict` the benchmarked call used (`MLModel.predict` is
watched during one call and put back after); each is loaded once more from its package
to time load and compile for its compute units.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from perfci.explain.profile import OpStat, Section, Segment

# coremltools' device classes, as the diff names them ("conv_12: Neural Engine → CPU")
DEVICES = {
    "MLCPUComputeDevice": "CPU",
    "MLGPUComputeDevice": "GPU",
    "MLNeuralEngineComputeDevice": "Neural Engine",
}


def device_name(device: Any) -> str | None:
    if device is None:
        return None
    return DEVICES.get(type(device).__name__, type(device).__name__)


def plan_ops(plan: Any, prefix: str = "") -> tuple[OpStat, ...]:
    """Every operation (ML Program) or layer (neural network) of `plan`, an MLComputePlan
    or an object of its shape, with its preferred device and estimated cost. An ML
    Program operation is named by its first output (unique in a program), `op_N` by its
    place when it has none; `prefix` keeps several models apart."""
    structure = plan.model_structure
    ops: list[OpStat] = []
    if structure.program is not None:
        for fn_name, function in structure.program.functions.items():
            where = prefix if fn_name == "main" else f"{prefix}{fn_name}/"
            for index, op in enumerate(_operations(function.block)):
                name = op.outputs[0].name if op.outputs else f"op_{index}"
                usage = plan.get_compute_device_usage_for_mlprogram_operation(op)
                cost = plan.get_estimated_cost_for_mlprogram_operation(op)
                weight = float(cost.weight) if cost is not None else None
                ops.append(_op(f"{where}{name}", f"operation:{op.operator_name}", usage, weight))
    elif structure.neuralnetwork is not None:
        for layer in structure.neuralnetwork.layers:
            usage = plan.get_compute_device_usage_for_neuralnetwork_layer(layer)
            ops.append(_op(f"{prefix}{layer.name}", f"layer:{layer.type}", usage, None))
    return tuple(ops)


def _op(name: str, kind: str, usage: Any, cost: float | None) -> OpStat:
    """An operation as the plan has it: `usage` an MLComputePlanDeviceUsage or None."""
    device = device_name(usage.preferred_compute_device) if usage is not None else None
    return OpStat(name=name, kind=kind, calls=1, device=device, cost=cost)


def _operations(block: Any) -> Iterator[Any]:
    """A block's operations, those of nested blocks (loops, conditionals) after theirs."""
    for op in block.operations:
        yield op
        for inner in op.blocks:
            yield from _operations(inner)


@contextmanager
def _predicting_models(ct: Any) -> Iterator[list[Any]]:
    """The MLModel objects whose `predict` runs inside the block, in first-use order."""
    cls = ct.models.MLModel
    original = cls.predict
    seen: list[Any] = []

    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not any(m is self for m in seen):
            seen.append(self)
        return original(self, *args, **kwargs)

    cls.predict = predict
    try:
        yield seen
    finally:
        cls.predict = original


def collect(call: Callable[[], Any]) -> Section:
    from perfci.backends.coreml import prediction_unavailable_reason

    section = Section("coreml")
    reason = prediction_unavailable_reason()
    if reason is not None:
        section.notes.append(f"Core ML compute plan skipped: {reason}")
        return section
    import coremltools as ct
    from coremltools.models.compute_plan import MLComputePlan

    with _predicting_models(ct) as models:
        call()
    if not models:
        section.notes.append("the call predicted with no MLModel: no compute plan to read")
        return section
    ops: list[OpStat] = []
    load_s = 0.0
    for index, model in enumerate(models):
        units = model.compute_unit
        compiled = model.get_compiled_model_path()
        plan = MLComputePlan.load_from_path(compiled, compute_units=units)
        ops += plan_ops(plan, f"model{index + 1}/" if len(models) > 1 else "")
        start = time.perf_counter()
        if getattr(model, "package_path", None):
            ct.models.MLModel(model.package_path, compute_units=units)
        else:
            ct.models.CompiledMLModel(compiled, compute_units=units)
        load_s += time.perf_counter() - start
    section.segments.append(Segment(1, tuple(ops)))
    section.load_s = load_s
    return section
