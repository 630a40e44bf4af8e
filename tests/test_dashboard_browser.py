"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): pages load
clean from file://, charts draw every stored point, hover and click find the right commit,
filters filter. Screenshots of the main pages go to tests/artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_data import EVIL, GEMM, seed
from sqlalchemy import func, select

from perfci.dashboard import build_site, naming
from perfci.store import open_store
from perfci.store.models import Benchmark, Machine, Measurement, Run

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
REPO = "https://github.example/acme/models"
GEMM_PAGE = naming.benchmark_page(GEMM, "test_gemm")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("site")
    store = open_store(f"sqlite:///{root / 'perfci.db'}")
    seed(store)
    build_site(store, root / "site", repo_url=REPO)
    yield root / "site", store
    store.close()


class Watched:
    """A page with its console errors, failed requests and every URL it requested."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_pages_load_clean_offline_and_are_kept_as_screenshots(
    browser: Any, site: tuple[Path, Any], scheme: str, width: int
) -> None:
    out, _ = site
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    ARTIFACTS.mkdir(exist_ok=True)
    for path in sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")):
        watched = Watched(context)
        page = watched.open((out / path).as_uri())
        assert watched.errors == [], (path, watched.errors)
        assert all(u.startswith("file://") for u in watched.requests), watched.requests
        assert page.evaluate("window.__pwned === undefined"), path
        if path == GEMM_PAGE:
            page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
        if path in ("index.html", GEMM_PAGE, "runs.html"):
            name = path.replace("/", "_").removesuffix(".html")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}-{width}.png"), full_page=True)
        page.close()
    context.close()


@pytest.fixture
def gemm(browser: Any, site: tuple[Path, Any]) -> Iterator[Any]:
    out, _ = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context)
    page = watched.open((out / GEMM_PAGE).as_uri())
    page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
    yield page
    assert watched.errors == []
    context.close()


def test_each_chart_draws_every_point_in_the_store(gemm: Any, site: tuple[Path, Any]) -> None:
    _, store = site
    drawn = gemm.evaluate(
        """() => Object.entries(window.perfciCharts).map(([id, u]) => [id,
             u.series.slice(1).map((s, i) => [s.label, u.data[i + 1].filter(v => v != null).length])
               .filter(([label]) => !/ q[13]$/.test(label))])"""
    )
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(Benchmark.key, Measurement.metric, Machine.name, func.count())
            .join(Measurement, Measurement.benchmark_id == Benchmark.id)
            .join(Run, Run.id == Measurement.run_id)
            .join(Machine, Machine.id == Run.machine_id)
            .where(Benchmark.suite == GEMM, Run.trigger != "pull_request")
            .group_by(Benchmark.key, Measurement.metric, Machine.name)
        ).all()
    expected = {
        (f"{naming.variant_anchor(key)}-{metric}", machine): n for key, metric, machine, n in stored
    }
    got = {(chart, label): n for chart, series in drawn for label, n in series}
    assert got == expected and len(got) == 8  # 2 variants x 2 metrics x 2 machines


def _point(page: Any, chart: str, x: int) -> tuple[float, float]:
    return page.evaluate(  # type: ignore[no-any-return]
        """([chart, x]) => {
            const u = window.perfciCharts[chart];
            const s = u.data.findIndex((d, i) => i % 3 === 0 && i > 0 && d[x] != null);
            const box = u.over.getBoundingClientRect();
            // one pixel inside the plot, so the first and last runs are hovered too
            const left = Math.min(Math.max(u.valToPos(x, "x"), 1), box.width - 1);
            return [box.left + left, box.top + u.valToPos(u.data[s][x], "y")];
        }""",
        [chart, x],
    )


def test_hover_shows_the_commit_and_click_opens_it(gemm: Any) -> None:
    chart = gemm.evaluate("Object.keys(window.perfciCharts).find(k => k.endsWith('-latency'))")
    runs = gemm.evaluate("window.perfciData")
    for x in (0, 5, len(runs["runs"]) - 1):
        run = runs["runs"][x]
        sha, subject, _ = runs["commits"][run[0]]
        gemm.locator(f"figure[data-chart='{chart}']").scroll_into_view_if_needed()
        gemm.mouse.move(*_point(gemm, chart, x))
        tip = gemm.locator("#tip")
        assert tip.is_visible()
        assert tip.get_attribute("data-sha") == sha
        text = tip.inner_text()
        assert sha[:10] in text and subject in text and EVIL in subject
        assert runs["machines"][run[1]] in text
        assert "interquartile range" in text
    gemm.context.route(f"{REPO}/**", lambda route: route.fulfill(body="commit page"))
    with gemm.context.expect_page() as popup:
        gemm.mouse.click(*_point(gemm, chart, 5))
    assert popup.value.url == f"{REPO}/commit/{runs['commits'][runs['runs'][5][0]][0]}"


def test_wheel_zooms_and_buttons_pan_and_reset(gemm: Any) -> None:
    chart = gemm.evaluate("Object.keys(window.perfciCharts)[0]")
    full = gemm.evaluate(f"window.perfciCharts['{chart}'].scales.x.max")
    x, y = _point(gemm, chart, 10)
    gemm.mouse.move(x, y)
    gemm.mouse.wheel(0, -300)
    scale = f"window.perfciCharts['{chart}'].scales.x"
    lo, hi = gemm.evaluate(f"[{scale}.min, {scale}.max]")
    assert hi - lo < full
    gemm.locator(f"figure[data-chart='{chart}'] [data-pan='1']").click()
    lo2 = gemm.evaluate(f"window.perfciCharts['{chart}'].scales.x.min")
    assert lo2 > lo
    gemm.locator(f"figure[data-chart='{chart}'] [data-reset]").click()
    assert gemm.evaluate(f"window.perfciCharts['{chart}'].scales.x.max") == full


def test_overview_filters(browser: Any, site: tuple[Path, Any]) -> None:
    out, _ = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Watched(context).open((out / "index.html").as_uri())

    def visible() -> list[str]:
        return page.locator("tr.bench:visible td:first-child").all_inner_texts()  # type: ignore[no-any-return]

    assert len(visible()) == 3
    page.select_option("select[name=dtype]", "float16")
    assert len(visible()) == 1 and "dtype=float16" in visible()[0]
    page.select_option("select[name=dtype]", "")
    page.select_option("select[name=backend]", "torch")
    assert len(visible()) == 1 and "note=" in visible()[0]
    page.select_option("select[name=backend]", "")
    page.fill("input[name=text]", "N=512")
    assert len(visible()) == 2
    page.fill("input[name=text]", "no such benchmark")
    assert visible() == [] and page.locator("#shown").inner_text() == "0 of 3 shown"
    page.fill("input[name=text]", "")
    page.select_option("select[name=machine]", "mini-2")
    assert len(visible()) == 3
    assert page.locator("#alerts tbody tr").count() == 1  # the open alert; not the acknowledged
    context.close()
