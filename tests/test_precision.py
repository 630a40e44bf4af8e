"""Precision is what the name says: where a GPU computes float32 products on TF32 tensor
cores (MLX's CUDA backend by default, torch on CUDA when its switches allow), the
benchmark records `matmul_precision` and is checked at that precision's tolerance; on a
CPU or Metal nothing is added, so those series keep their identity.

No NVIDIA GPU is here: the CUDA paths run with only the backends' device queries
replaced (MLX's `cuda.is_available`, `default_device`, `device_info`; torch's
`cuda.is_available`, `version.cuda`, `cuda.get_device_name`), in fresh processes, while
the arithmetic itself runs on the CPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from perfci.backends.mlx import cuda_matmul_precision as mlx_precision
from perfci.backends.numpy import NumpyBackend
from perfci.results import parse_run

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "suites"))
from workloads import gemm  # noqa: E402
from workloads.tolerance import precision  # noqa: E402

needs_mlx = pytest.mark.skipif(importlib.util.find_spec("mlx") is None, reason="needs MLX")
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")

# Replaces only MLX's device queries: it reports an NVIDIA GPU as its default device.
FAKE_MLX_CUDA = """
import mlx.core as mx

mx.cuda.is_available = lambda: True
mx.default_device = lambda: mx.Device(mx.gpu, 0)
mx.device_info = lambda d=None: {"device_name": "NVIDIA H200", "architecture": "sm_90"}
"""

TORCH_PROBE = """
import json, sys
import torch
exec(sys.argv[1])  # the switch under test, before anything reads them
torch.cuda.is_available = lambda: True
torch.version.cuda = "13.0"
torch.cuda.get_device_name = lambda device=None: "NVIDIA H200"
from perfci.backends.torch import TorchBackend, cuda_matmul_precision
backend = TorchBackend("cuda")
print(json.dumps({
    "switches": cuda_matmul_precision(torch),
    "float32": backend.matmul_precision("float32"),
    "float16": backend.matmul_precision("float16"),
    "cpu": TorchBackend("cpu").matmul_precision("float32"),
    "info": backend.info,
}))
"""


def tf32(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to TF32's 10-bit mantissa (round to nearest even), as
    tensor cores read a float32 product's inputs."""
    bits = x.astype(np.float32).view(np.uint32)
    keep = np.uint32(0xFFFFE000)  # sign, exponent and the top 10 mantissa bits
    half, lsb = np.uint32(0x1000), (bits >> np.uint32(13)) & np.uint32(1)
    return ((bits + half - np.uint32(1) + lsb) & keep).view(np.float32)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "tf32"),  # MLX's default on CUDA
        ({"MLX_ENABLE_TF32": "1"}, "tf32"),
        ({"MLX_ENABLE_TF32": "0"}, "float32"),
        ({"MLX_ENABLE_TF32": " 0"}, "float32"),
        ({"MLX_ENABLE_TF32": "off"}, "float32"),  # C atoi reads no digits as 0
        ({"MLX_ENABLE_TF32": "2"}, "tf32"),
    ],
)
def test_mlx_reads_its_tf32_variable_as_mlx_does(environ: dict[str, str], expected: str) -> None:
    assert mlx_precision(environ) == expected


def test_a_tf32_product_fails_the_float32_check_and_passes_the_tf32_one() -> None:
    a, b = gemm.inputs(1024)
    out = tf32(a) @ tf32(b)  # float32 accumulation of TF32-rounded inputs
    with pytest.raises(AssertionError, match="float32 allows"):
        gemm.checker(a, b, "float32", np.asarray)(out)
    gemm.checker(a, b, "tf32", np.asarray)(out)
    gemm.checker(a, b, "float32", np.asarray)(a @ b)  # a true float32 product passes
    # A broken kernel (one wrong row) fails even the looser TF32 check.
    broken = out.copy()
    broken[3] = 0
    with pytest.raises(AssertionError, match="tf32 allows"):
        gemm.checker(a, b, "tf32", np.asarray)(broken)


def test_the_checked_precision_is_the_recorded_one_else_the_dtype() -> None:
    assert precision({"dtype": "float32", "matmul_precision": "tf32"}) == "tf32"
    assert precision({"dtype": "float32", "matmul_precision": "float32"}) == "float32"
    assert precision({"dtype": "float16"}) == "float16"


@needs_mlx
def test_cpu_backends_name_no_precision() -> None:
    from perfci.backends.mlx import MlxBackend

    assert MlxBackend("cpu").matmul_precision("float32") is None
    assert NumpyBackend().matmul_precision("float32") is None


@needs_torch
@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        ("pass", "float32"),  # torch's default: exact float32 products
        ("torch.backends.cuda.matmul.allow_tf32 = True", "tf32"),
        ("torch.set_float32_matmul_precision('high')", "tf32"),
        ("torch.backends.cuda.matmul.fp32_precision = 'tf32'", "tf32"),
        ("torch.backends.fp32_precision = 'tf32'", "tf32"),
        ("torch.backends.cuda.matmul.fp32_precision = 'ieee'", "float32"),
    ],
)
def test_torch_on_cuda_names_what_its_switches_allow(switch: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", TORCH_PROBE, switch],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {
        "switches": expected,
        "float32": expected,
        "float16": None,  # TF32 concerns float32 products only
        "cpu": None,
        "info": {"gpu": "NVIDIA H200"},
    }


def _mlx_gemm_on_fake_cuda(tmp_path: Path, environ: dict[str, str]) -> dict[str, dict[str, object]]:
    """The real MLX GEMM suite at n=256 with MLX's device queries reporting CUDA: the
    params of each dtype's benchmark, by dtype."""
    (tmp_path / "fake_mlx_cuda.py").write_text(FAKE_MLX_CUDA)
    out = tmp_path / "run.json"
    env = {k: v for k, v in os.environ.items() if k != "MLX_ENABLE_TF32"}
    env |= environ | {"PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/mlx/test_mlx_gemm.py",
            "-p",
            "fake_mlx_cuda",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            "256",
            f"--perfci-json={out}",
            "--perfci-profile=quick",
            "--benchmark-min-rounds=2",
            "--benchmark-max-time=0.01",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    run = parse_run(json.loads(out.read_text()))
    return {str(b.params["dtype"]): dict(b.params) for b in run.benchmarks}


@needs_mlx
@pytest.mark.slow
def test_mlx_suite_on_cuda_records_tf32_and_checks_at_it(tmp_path: Path) -> None:
    params = _mlx_gemm_on_fake_cuda(tmp_path, {})
    assert params["float32"] == {
        "backend": "mlx",
        "device": "gpu",
        "gpu": "NVIDIA H200",
        "dtype": "float32",
        "matmul_precision": "tf32",
        "n": 256,
    }
    assert "matmul_precision" not in params["float16"]
    assert "matmul_precision" not in params["bfloat16"]


@needs_mlx
@pytest.mark.slow
def test_mlx_float32_made_exact_is_recorded_as_float32(tmp_path: Path) -> None:
    params = _mlx_gemm_on_fake_cuda(tmp_path, {"MLX_ENABLE_TF32": "0"})
    assert params["float32"]["matmul_precision"] == "float32"


CONV_PROBE = """
import json, sys
import torch
exec(sys.argv[1])
from perfci.backends.torch import cuda_conv_precision
print(json.dumps(cuda_conv_precision(torch)))
"""


@needs_torch
@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        ("pass", "tf32"),  # cuDNN's default, unlike matmul's: float32 convolutions on TF32
        ("torch.backends.cudnn.allow_tf32 = False", "float32"),
        ("torch.backends.cudnn.conv.fp32_precision = 'ieee'", "float32"),
        ("torch.backends.cudnn.conv.fp32_precision = 'tf32'", "tf32"),
    ],
)
def test_torch_convolutions_on_cuda_name_cudnns_switch(switch: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", CONV_PROBE, switch],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_a_tf32_convolution_is_checked_at_tf32() -> None:
    assert precision({"dtype": "float32", "conv_precision": "tf32"}) == "tf32"
    assert precision({"dtype": "float32", "conv_precision": "float32"}) == "float32"
    both = {"dtype": "float32", "matmul_precision": "float32", "conv_precision": "tf32"}
    assert precision(both) == "tf32"
