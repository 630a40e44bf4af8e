"""Backends side by side: the rule of what one workload is, the tables from each machine's
latest run (a real SQLite store, runs built with the test factories), in `perfci runs
--show` and on the dashboard's backends page in a real headless Chromium."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from factories import MACHINE, run, sha
from hostile import cli
from site_data import EVIL

from perfci.backends.sidebyside import Timing, backend_label, side_by_side
from perfci.dashboard import build_site, naming
from perfci.results import BenchmarkResult, Metric, RunResult
from perfci.store import open_store
from perfci.store.ingest import ingest_runs

GPU_BOX = dataclasses.replace(MACHINE, name="gpu-box " + EVIL, chip="NVIDIA H200 host")


def bench(suite: str, name: str, params: dict[str, Any], latency: float) -> BenchmarkResult:
    """A benchmark whose latency samples are all `latency`: its median is exact."""
    return BenchmarkResult(suite, name, params, (Metric("latency", "s", "lower", (latency,) * 5),))


def gemm(backend: str, device: str, latency: float, dtype: str = "float32") -> BenchmarkResult:
    params = {"backend": backend, "device": device, "dtype": dtype, "n": 1024}
    return bench(f"suites/{backend}/test_{backend}_gemm", "test_gemm", params, latency)


def timing(name: str, latency: float, **params: Any) -> Timing:
    return Timing("suites/x", name, params, latency)


def test_one_workload_is_a_name_and_what_it_computes_across_suites() -> None:
    tables = side_by_side(
        [
            Timing("suites/mlx/test_mlx_gemm", "test_gemm", {"backend": "mlx", "n": 8}, 2e-3),
            Timing("suites/torch/test_torch_gemm", "test_gemm", {"backend": "torch", "n": 8}, 1e-3),
            Timing("suites/numpy/a", "test_gemm", {"backend": "numpy", "n": 8}, 8e-3),
            timing("test_gemm", 1e-3, backend="mlx", n=16),  # another size: alone
            timing("test_other", 1e-3, backend="torch", n=8),  # another test: alone
            timing("test_gemm", 1e-4, n=8),  # names no backend: not compared
        ]
    )
    assert len(tables) == 1
    (table,) = tables
    assert (table.name, table.shared) == ("test_gemm", {"n": 8})
    assert [(e.label, e.ratio, e.fastest) for e in table.entries] == [
        ("torch", 1.0, True),
        ("mlx", 2.0, False),
        ("numpy", 8.0, False),
    ]


def test_how_a_workload_runs_is_the_backend_side() -> None:
    """Device, GPU model, compute units, eager or compiled and the matmul precision say
    how; dtype, batch and size say what."""
    tables = side_by_side(
        [
            timing("test_kernel", 4e-3, backend="mlx", device="gpu", mode="eager", seq=512),
            timing("test_kernel", 1e-3, backend="mlx", device="gpu", mode="compiled", seq=512),
            timing(
                "test_kernel",
                2e-3,
                backend="torch",
                device="cuda",
                gpu="NVIDIA H200",
                matmul_precision="tf32",
                mode="eager",
                seq=512,
            ),
            timing("test_predict", 3e-3, backend="coreml", device="ALL", units="ALL", batch=4),
            timing(
                "test_predict", 6e-3, backend="coreml", device="CPU_ONLY", units="CPU_ONLY", batch=4
            ),
            timing("test_predict", 1e-3, backend="coreml", device="ALL", units="ALL", batch=8),
        ]
    )
    kernel, predict = tables
    assert kernel.shared == {"seq": 512}
    assert [e.label for e in kernel.entries] == [
        "mlx · gpu · compiled",
        "torch · cuda · NVIDIA H200 · eager · tf32",
        "mlx · gpu · eager",
    ]
    assert predict.shared == {"batch": 4}
    assert [(e.label, e.ratio) for e in predict.entries] == [
        ("coreml · ALL", 1.0),
        ("coreml · CPU_ONLY", 2.0),
    ]


def test_one_backend_in_two_suites_is_named_by_its_suite() -> None:
    (table,) = side_by_side(
        [
            Timing("suites/a", "test_gemm", {"backend": "mlx", "n": 8}, 1e-3),
            Timing("suites/b", "test_gemm", {"backend": "mlx", "n": 8}, 2e-3),
            Timing("suites/c", "test_gemm", {"backend": "torch", "n": 8}, 2e-3),
        ]
    )
    assert [e.label for e in table.entries] == ["mlx (suites/a)", "mlx (suites/b)", "torch"]
    assert [e.fastest for e in table.entries] == [True, False, False]
    assert backend_label({"backend": "coreml", "device": "ALL", "units": "ALL"}) == "coreml · ALL"


def _runs() -> list[RunResult]:
    old = run(
        commit=sha("old"),
        started_at="2026-11-01T10:00:00+00:00",
        benchmarks=(gemm("mlx", "gpu", 1e-3), gemm("torch", "mps", 9e-3)),
    )
    latest = run(
        commit=sha("new"),
        parents=(sha("old"),),
        started_at="2026-11-02T10:00:00+00:00",
        benchmarks=(
            gemm("mlx", "gpu", 4e-3),
            gemm("torch", "mps", 1e-3),
            gemm("numpy", "cpu", 2.5e-3),
            gemm("mlx", "gpu", 3e-3, dtype="float16"),  # float16: on MLX alone
        ),
    )
    pull = run(
        commit=sha("pr"),
        started_at="2026-11-03T10:00:00+00:00",
        benchmarks=(gemm("mlx", "gpu", 1e-4), gemm("torch", "mps", 1e-4)),
    )
    pull = dataclasses.replace(
        pull, run=dataclasses.replace(pull.run, trigger="pull_request", pr_number=7)
    )
    hostile = {"backend": EVIL, "device": "gpu", "dtype": "float32", "n": 1024}
    gpu = run(
        commit=sha("new"),
        started_at="2026-11-02T11:00:00+00:00",
        machine=GPU_BOX,
        benchmarks=(
            bench("suites/" + EVIL, "test_gemm", hostile, 5e-4),
            gemm("torch", "cuda", 2e-4),
        ),
    )
    return [old, latest, pull, gpu]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('backends') / 'perfci.db'}"
    store = open_store(url)
    try:
        ids = [i.run_id for i in ingest_runs(store, _runs())]
    finally:
        store.close()
    return url, ids


def test_runs_show_prints_the_runs_backends_side_by_side(stored: tuple[str, list[int]]) -> None:
    url, ids = stored
    shown = cli("runs", "--show", str(ids[1]), "--db", url)
    assert shown.code == 0, shown.err
    text = shown.out
    part = text[text.index("Backends side by side (1 workloads, fastest first):") :]
    lines = [line.split() for line in part.splitlines()[1:]]
    assert lines[0] == ["test_gemm", "[dtype=float32,", "n=1024]"]
    assert lines[3:] == [
        ["torch", "·", "mps", "1", "ms", "fastest"],
        ["numpy", "·", "cpu", "2.5", "ms", "2.50x"],
        ["mlx", "·", "gpu", "4", "ms", "4.00x"],
    ]


def test_a_run_on_one_backend_shows_no_side_by_side(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'perfci.db'}"
    store = open_store(url)
    try:
        solo = run(benchmarks=(gemm("mlx", "gpu", 1e-3), gemm("mlx", "gpu", 1e-3, "float16")))
        (one,) = ingest_runs(store, [solo])
    finally:
        store.close()
    shown = cli("runs", "--show", str(one.run_id), "--db", url)
    assert shown.code == 0, shown.err
    assert "test_gemm" in shown.out and "Backends side by side" not in shown.out


@pytest.mark.browser
def test_the_backends_page_follows_each_machines_latest_run(
    browser: Any, stored: tuple[str, list[int]], tmp_path: Path
) -> None:
    url, ids = stored
    store = open_store(url)
    try:
        build_site(store, tmp_path / "site")
    finally:
        store.close()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto((tmp_path / "site" / naming.OVERVIEW).as_uri())
    page.click("#backends a[href='backends.html']")
    page.wait_for_load_state("load")
    assert page.url.endswith("/" + naming.BACKENDS)

    sections = page.locator("section.backends")
    assert sections.count() == 2
    mini = sections.filter(has_text="mini-1")
    rows = mini.locator("table.side-by-side tbody tr")
    assert [" | ".join(r.split("\t")) for r in rows.all_inner_texts()] == [
        "torch · mps | 1 ms | fastest",
        "numpy · cpu | 2.5 ms | 2.50×",
        "mlx · gpu | 4 ms | 4.00×",
    ]  # the latest run of mini-1, not its older one nor the pull request's
    assert mini.locator("tr.fastest").inner_text().startswith("torch · mps")
    assert f"run {ids[1]}" in mini.inner_text()
    assert mini.locator("h3").inner_text() == "test_gemm dtype=float32, n=1024"

    gpu = sections.filter(has_text="gpu-box")
    assert EVIL in gpu.locator("h2").inner_text()  # hostile names are text, not markup
    gpu_rows = gpu.locator("tbody tr").all_inner_texts()
    assert gpu_rows[0].startswith("torch · cuda")
    assert gpu_rows[1].startswith(f"{EVIL} · gpu") and gpu_rows[1].endswith("2.50×")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0
    assert errors == []
    page.close()
