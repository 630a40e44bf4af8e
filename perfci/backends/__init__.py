"""Backends, imported only when a benchmark asks for one (they pull in heavy frameworks)."""

from __future__ import annotations

import importlib

from perfci.backends.base import Backend, BackendUnavailable, MemoryReading

_CLASSES = {
    "numpy": ("perfci.backends.numpy", "NumpyBackend"),
    "mlx": ("perfci.backends.mlx", "MlxBackend"),
    "torch": ("perfci.backends.torch", "TorchBackend"),
    "coreml": ("perfci.backends.coreml", "CoremlBackend"),
}

NAMES = tuple(_CLASSES)


def get_backend(name: str, device: str | None = None) -> Backend:
    """The backend `name` on `device` (its best device when None), or BackendUnavailable."""
    try:
        module_name, class_name = _CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; one of {', '.join(NAMES)}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: Backend = cls(device)
    return backend


__all__ = ["NAMES", "Backend", "BackendUnavailable", "MemoryReading", "get_backend"]
