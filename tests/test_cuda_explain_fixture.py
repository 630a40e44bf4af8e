"""A planted regression on a real GPU, explained: `perfci explain` on an NVIDIA H200
(tests/data/cuda-h200-explain/README.md). The kept profiles diff again to the command's
own answer, and the answer names what was planted: one more `aten::mm` and its GEMM
kernel launched twice; a float64 detour's own GEMM kernel and copies in place of the
float32 one."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from perfci.explain import diff_profiles, explanation_json, read_profile

DATA = Path(__file__).parent / "data" / "cuda-h200-explain"


def _kept(case: str) -> dict[str, Any]:
    doc = json.loads((DATA / case / "explain.json").read_text())
    [explanation] = doc["explanations"]
    return dict(explanation)


def _diffed(case: str) -> dict[str, Any]:
    def side(name: str) -> list[Any]:
        return [read_profile(DATA / case / f"{name}-{i}.json") for i in (1, 2)]

    return explanation_json(diff_profiles(side("base"), side("head")))


def _same(a: Any, b: Any) -> bool:
    """Equal, floats to summation order."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _changes(explanation: dict[str, Any], tool: str) -> dict[str, dict[str, Any]]:
    [section] = [s for s in explanation["sections"] if s["tool"] == tool]
    return {c["name"]: c for c in section["changes"]}


@pytest.mark.parametrize("case", ["extra-matmul", "float64"])
def test_the_kept_profiles_diff_to_the_commands_answer(case: str) -> None:
    assert _same(_diffed(case), _kept(case))


def test_an_extra_matmul_is_one_more_mm_and_kernel_launch() -> None:
    explanation = _kept("extra-matmul")
    assert explanation["backend"] == "torch" and not explanation["within_noise"]
    changes = _changes(explanation, "torch")
    first = next(iter(changes.values()))
    assert first["name"] == "aten::mm", first  # the largest contribution comes first
    assert first["status"] == "changed" and first["calls_delta"] == 1
    gemm = [c for name, c in changes.items() if "sgemm" in name]
    assert gemm and gemm[0]["status"] == "changed" and gemm[0]["calls_delta"] == 1, gemm


def test_a_float64_detour_swaps_the_gemm_kernel_and_adds_copies() -> None:
    changes = _changes(_kept("float64"), "torch")
    f32 = [c for name, c in changes.items() if "sgemm" in name]
    f64 = [c for name, c in changes.items() if "f64" in name and "gemm" in name]
    assert f32 and f32[0]["status"] == "vanished", f32
    assert f64 and f64[0]["status"] == "new", f64
    assert changes["aten::copy_"]["status"] == "new", changes.get("aten::copy_")
    python = _changes(_kept("float64"), "python")
    assert any("double" in name and c["status"] == "new" for name, c in python.items())
