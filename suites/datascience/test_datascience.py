"""GPU-accelerated numerical computing: PCA by SVD and a correlation matrix on NumPy,
MLX and PyTorch, each checked against NumPy in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from workloads.tolerance import assert_close, precision

SHAPES = {"quick": ["2000x64"], "full": ["20000x256", "100000x512"]}  # rows x columns
BACKENDS = ["numpy", "mlx", "torch"]


def _data(rows: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    # Correlated columns with a spectrum decaying a hundredfold, as real features have
    # (and no column so small that float32 cannot hold it).
    mixing = rng.standard_normal((cols, cols)) * np.geomspace(1, 0.01, cols)
    return (rng.standard_normal((rows, cols)) @ mixing).astype(np.float32)


def _pca_numpy(x: Any) -> Any:
    centered = x - x.mean(axis=0)
    return np.linalg.svd(centered, full_matrices=False)[1]


def _singular_values(backend: str, x: np.ndarray, device: str) -> Any:
    """A function computing the singular values of the centred data on `backend`."""
    if backend == "numpy":
        return lambda: _pca_numpy(x)
    if backend == "mlx":
        import mlx.core as mx

        data = mx.array(x)
        # MLX's SVD runs on the CPU stream only; centring runs on the default device.
        return lambda: mx.linalg.svd(data - data.mean(axis=0), compute_uv=False, stream=mx.cpu)
    import torch

    data = torch.from_numpy(x).to(device)
    return lambda: torch.linalg.svdvals(data - data.mean(dim=0))


def _correlation(backend: str, x: np.ndarray, device: str) -> Any:
    if backend == "numpy":
        return lambda: np.corrcoef(x, rowvar=False)
    if backend == "mlx":
        import mlx.core as mx

        data = mx.array(x)

        def corr() -> Any:
            z = (data - data.mean(axis=0)) / data.std(axis=0)
            return (z.T @ z) / data.shape[0]

        return corr
    import torch

    data = torch.from_numpy(x).to(device)
    return lambda: torch.corrcoef(data.T)


def _as_numpy(out: Any) -> np.ndarray:
    if hasattr(out, "cpu"):
        return out.cpu().numpy()
    return np.array(out)


@pytest.mark.perf_sizes("shape", quick=SHAPES["quick"], full=SHAPES["full"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_pca_svd(perf, backend: str, shape: str) -> None:
    chosen = perf.use(backend, dtype="float32")
    rows, cols = map(int, shape.split("x"))
    x = _data(rows, cols)
    reference = _pca_numpy(x.astype(np.float64))
    fn = _singular_values(backend, x, chosen.device)
    try:
        fn()
    except NotImplementedError as exc:  # e.g. an SVD the device lacks, MPS without fallback
        pytest.skip(f"{backend} on {chosen.device} has no SVD: {exc}")
    perf(
        fn,
        items=rows,
        unit="rows",
        check=lambda out: assert_close(_as_numpy(out), reference, "float32"),
    )


@pytest.mark.perf_sizes("shape", quick=SHAPES["quick"], full=SHAPES["full"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_correlation_matrix(perf, backend: str, shape: str) -> None:
    chosen = perf.use(backend, dtype="float32")
    rows, cols = map(int, shape.split("x"))
    x = _data(rows, cols)
    reference = np.corrcoef(x.astype(np.float64), rowvar=False)
    fn = _correlation(backend, x, chosen.device)
    perf(
        fn,
        items=rows,
        unit="rows",
        check=lambda out: assert_close(_as_numpy(out), reference, precision(perf.params)),
    )
