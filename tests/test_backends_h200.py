"""Backends side by side on real data: numpy, MLX (its CUDA backend) and torch (CUDA)
measured in one run on an NVIDIA H200 at the quick profile (tests/data/backends-h200/).
Each GEMM size and dtype is one table of three backends, fastest first; MLX's float32
line says it computed on TF32, torch's that it computed in float32."""

from __future__ import annotations

import gzip
import json
import statistics
from pathlib import Path

from perfci.backends.sidebyside import Timing, side_by_side
from perfci.results import parse_run

FIXTURE = Path(__file__).parent / "data" / "backends-h200" / "perfci.json.gz"


def _tables() -> dict[tuple[str, str], list[str]]:
    run = parse_run(json.loads(gzip.decompress(FIXTURE.read_bytes())))
    timings = [
        Timing(b.suite, b.name, dict(b.params), statistics.median(m.samples))
        for b in run.benchmarks
        for m in b.metrics
        if m.name == "latency"
    ]
    return {
        (t.name, json.dumps(t.shared, sort_keys=True)): [e.label for e in t.entries]
        for t in side_by_side(timings)
    }


def test_each_gemm_is_one_table_across_the_three_backends() -> None:
    tables = _tables()
    gemm32 = tables[("test_gemm", json.dumps({"dtype": "float32", "n": 256}, sort_keys=True))]
    assert len(gemm32) == 3, gemm32
    assert {label.split(" · ")[0] for label in gemm32} == {"numpy", "mlx", "torch"}
    assert gemm32[-1].startswith("numpy"), gemm32  # the CPU is the slowest at any size here
    assert "mlx · gpu · NVIDIA H200 · tf32" in gemm32
    assert "torch · cuda · NVIDIA H200 · float32" in gemm32


def test_the_transformers_compare_mlx_with_torch_on_the_gpu() -> None:
    encoders = [
        labels for (name, _), labels in _tables().items() if name == "test_encoder_classify"
    ]
    assert encoders and all(
        {label.split(" · ")[0] for label in labels} == {"mlx", "torch"} for labels in encoders
    ), encoders
