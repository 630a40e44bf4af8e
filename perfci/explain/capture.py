"""The plugin's side of `perfci explain`: with `--perfci-explain=DIR`, a benchmark test's
benchmarked call is profiled instead of timed, and the profile written into DIR.

The test's pytest-benchmark fixture (also behind `perf`) gets a subclass whose
`__call__` and `pedantic` run the workload: a first call (its output is the test's, so
the test's own checks still run), `--perfci-warmup` untimed calls, then the backend's
profiler and cProfile over `--perfci-explain-calls` calls each, two halves apiece.
Nothing is timed or recorded for a results file: a profile never stands in for a
measurement. Importing this module imports no ML framework.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfci.explain.profile import Profile, write_profile

if TYPE_CHECKING:
    import pytest

    from perfci.measure.session import Identity

DEFAULT_CALLS = 20
_SUBCLASSES: dict[type, type] = {}


def calls_arg(text: str) -> int:
    """--perfci-explain-calls / --calls (an argparse type): 2 or more, two halves."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 2 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"must be from 2 to 100000 (two halves), not {value}")
    return value


def add_options(group: Any) -> None:
    """The plugin's explain options, in its `perfci` option group."""
    group.addoption(
        "--perfci-explain",
        metavar="DIR",
        help="profile each benchmark test's call instead of timing it, one profile per test "
        "in DIR (what perfci explain runs)",
    )
    group.addoption(
        "--perfci-explain-calls",
        metavar="N",
        type=calls_arg,
        default=DEFAULT_CALLS,
        help=f"calls per profiler, in two halves (default: {DEFAULT_CALLS})",
    )


def profile_path(folder: Path, nodeid: str) -> Path:
    """Where the profile of `nodeid` goes in `folder`: a readable, unique file name."""
    readable = re.sub(r"[^A-Za-z0-9_.=-]+", "-", nodeid).strip("-")[:80]
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:10]
    return folder / f"{readable}-{digest}.json"


def attach(item: pytest.Item, fixture: Any, identity: Identity) -> None:
    """Make `fixture` (the test's BenchmarkFixture) profile its workload into the folder
    --perfci-explain names."""
    fixture._perfci_explain = _Explainer(item, identity)
    fixture.__class__ = _subclass(type(fixture))


def _subclass(cls: type) -> type:
    if cls not in _SUBCLASSES:

        class Profiling(cls):  # type: ignore[misc]
            _perfci_explain: _Explainer

            def __call__(self, function_to_benchmark: Any, *args: Any, **kwargs: Any) -> Any:
                return self._perfci_explain.run(lambda: function_to_benchmark(*args, **kwargs))

            def pedantic(
                self,
                target: Any,
                args: tuple[Any, ...] = (),
                kwargs: dict[str, Any] | None = None,
                setup: Callable[[], Any] | None = None,
                **_: Any,
            ) -> Any:
                def call() -> Any:
                    # A setup runs inside the profiled call: it is the same on both sides.
                    prepared = setup() if setup is not None else None
                    a, k = prepared if prepared is not None else (args, kwargs or {})
                    return target(*a, **k)

                return self._perfci_explain.run(call)

        Profiling.__name__ = Profiling.__qualname__ = cls.__name__
        _SUBCLASSES[cls] = Profiling
    return _SUBCLASSES[cls]


class _Explainer:
    def __init__(self, item: pytest.Item, identity: Identity) -> None:
        self.item = item
        self.identity = identity
        self.folder = Path(item.config.getoption("perfci_explain"))
        self.calls: int = item.config.getoption("perfci_explain_calls")
        self.warmup: int = item.config.getoption("perfci_warmup")
        self.used = False

    def run(self, fn: Callable[[], Any]) -> Any:
        from perfci.measure.recorder import detect_backend

        if self.used:
            raise RuntimeError("perfci explain profiles one benchmarked call per test")
        self.used = True
        output = fn()
        found = detect_backend(output)
        if found is not None:
            found.sync(output)

        def call() -> Any:
            result = fn()
            if found is not None:
                found.sync(result)
            return result

        for _ in range(self.warmup):
            call()
        perf = getattr(self.item, "funcargs", {}).get("perf")
        params: dict[str, Any] = dict(perf.params) if perf is not None else {}
        backend = params.get("backend") or (found.name if found is not None else None)
        device = params.get("device") or (found.device if found is not None else None)
        path = profile_path(self.folder, self.item.nodeid)
        traces = path.with_suffix("")
        traces.mkdir(parents=True, exist_ok=True)
        profile = Profile(
            nodeid=self.item.nodeid,
            suite=self.identity.suite,
            name=self.identity.name,
            params=dict(self.identity.params),
            backend=backend,
            device=None if device is None else str(device),
        )
        profile.sections += _backend_sections(call, self.calls, traces, backend, device)
        from perfci.explain import python_funcs

        root = Path(self.item.config.rootpath)
        profile.sections.append(python_funcs.collect(call, self.calls, traces, root))
        write_profile(profile, path)
        return output


def _backend_sections(
    call: Callable[[], Any], calls: int, traces: Path, backend: str | None, device: Any
) -> list[Any]:
    """The backend's own profiler, where the benchmark uses one perfci knows."""
    if backend == "torch" and "torch" in sys.modules:
        from perfci.explain import torch_ops

        return [torch_ops.collect(call, calls, traces, str(device or "cpu"))]
    if backend == "mlx" and "mlx.core" in sys.modules:
        from perfci.explain import mlx_graphs

        return [mlx_graphs.collect(call, calls, traces, None if device is None else str(device))]
    if backend == "coreml":
        from perfci.explain import coreml_plan

        return [coreml_plan.collect(call)]
    return []
