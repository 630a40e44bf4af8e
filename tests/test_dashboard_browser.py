"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): pages load
clean from file://, charts draw every stored point at its commit, the x-axis reads main's
commits in first-parent order, hover shows the commit, its date and its runs, click opens
the commit, "Latest" is main's newest commit whatever was stored last, skip reasons are on
the page, filters filter. Screenshots of the main pages go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_data import ERROR_REASON, EVIL, FAILED_AT, GEMM, RERUN_OF, SKIP_REASON, Seeded, seed
from sqlalchemy import func, select

from perfci.dashboard import build_site, naming
from perfci.store import open_store
from perfci.store.models import Benchmark, Commit, Machine, Measurement, Run

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
REPO = "https://github.example/acme/models"
GEMM_PAGE = naming.benchmark_page(GEMM, "test_gemm")
Site = tuple[Path, Any, Seeded]  # the built site's folder, its store, what seed() stored


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    store = open_store(f"sqlite:///{root / 'perfci.db'}")
    seeded = seed(store)
    build_site(store, root / "site", repo_url=REPO)
    yield root / "site", store, seeded
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
    browser: Any, site: Site, scheme: str, width: int
) -> None:
    out = site[0]
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
def gemm(browser: Any, site: Site) -> Iterator[Any]:
    out = site[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context)
    page = watched.open((out / GEMM_PAGE).as_uri())
    page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
    yield page
    assert watched.errors == []
    context.close()


def test_each_chart_draws_every_point_in_the_store(gemm: Any, site: Site) -> None:
    """Every run of main's commits is a point: one per commit and machine, and where a
    commit has several runs (the re-run), each of them instead of their median."""
    store = site[1]
    drawn = gemm.evaluate(
        """() => Object.entries(window.perfciCharts).map(([id, u]) => [id,
             u.series.slice(1).map((s, i) => {
               const values = u.data[i + 1], shown = s.points.filter(u, i + 1, true, null);
               const n = shown ? shown.length : values.filter(v => v != null).length;
               return [s.label.replace(/ run \\d+$/, ""), n];
             }).filter(([label]) => !/ q[13]$/.test(label))])"""
    )
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(Benchmark.key, Measurement.metric, Machine.name, func.count())
            .join(Measurement, Measurement.benchmark_id == Benchmark.id)
            .join(Run, Run.id == Measurement.run_id)
            .join(Machine, Machine.id == Run.machine_id)
            .join(Commit, Commit.id == Run.commit_id)
            .where(Benchmark.suite == GEMM, Run.trigger != "pull_request")
            .where(Commit.sha.in_(site[2].shas))
            .group_by(Benchmark.key, Measurement.metric, Machine.name)
        ).all()
    expected = {
        (f"{naming.variant_anchor(key)}-{metric}", machine): n for key, metric, machine, n in stored
    }
    got: dict[tuple[str, str], int] = {}
    for chart, series in drawn:
        for label, n in series:
            got[(chart, label)] = got.get((chart, label), 0) + n
    assert got == expected and len(got) == 8  # 2 variants x 2 metrics x 2 machines


def _chart(page: Any, metric: str = "latency") -> str:
    return page.evaluate(  # type: ignore[no-any-return]
        f"Object.keys(window.perfciCharts).find(k => k.endsWith('-{metric}'))"
    )


def test_the_x_axis_reads_mains_commits_in_first_parent_order(gemm: Any, site: Site) -> None:
    """The labels drawn under each chart are short shas of main's first-parent chain,
    oldest left, at whole commits; zoomed in, there are more of them, still in order."""
    shas = site[2].shas
    for chart in gemm.evaluate("Object.keys(window.perfciCharts)"):
        axis = f"window.perfciCharts['{chart}'].axes[0]"
        ticks, labels = gemm.evaluate(f"[{axis}._splits, {axis}._values]")
        assert len(labels) >= 3 and all(float(t).is_integer() for t in ticks)
        assert labels == [shas[int(t)][:7] for t in ticks]
        assert ticks == sorted(ticks)
        assert gemm.evaluate(f"window.perfciCharts['{chart}'].scales.x.max") == len(shas) - 1
    chart = _chart(gemm)
    gemm.locator(f"figure[data-chart='{chart}']").scroll_into_view_if_needed()
    gemm.mouse.move(*_point(gemm, chart, 12))
    for _ in range(3):
        gemm.mouse.wheel(0, -300)
    axis = f"window.perfciCharts['{chart}'].axes[0]"
    ticks, labels = gemm.evaluate(f"[{axis}._splits, {axis}._values]")
    assert labels == [shas[int(t)][:7] for t in ticks] and ticks[1] - ticks[0] < 5
    gemm.locator(f"figure[data-chart='{chart}'] [data-reset]").click()


def _point(page: Any, chart: str, x: int) -> tuple[float, float]:
    return page.evaluate(  # type: ignore[no-any-return]
        """([chart, x]) => {
            const u = window.perfciCharts[chart];
            const s = u.data.findIndex((d, i) => i % 3 === 0 && i > 0 && d[x] != null);
            const box = u.over.getBoundingClientRect();
            // one pixel inside the plot, so the first and last commits are hovered too
            const left = Math.min(Math.max(u.valToPos(x, "x"), 1), box.width - 1);
            return [box.left + left, box.top + u.valToPos(u.data[s][x], "y")];
        }""",
        [chart, x],
    )


def test_hover_shows_the_commit_its_date_and_runs_and_click_opens_it(gemm: Any, site: Site) -> None:
    seeded = site[2]
    chart = _chart(gemm)
    data = gemm.evaluate("window.perfciData")
    last = len(data["commits"]) - 1
    for x in (0, RERUN_OF, last):
        sha, subject, date, runs = data["commits"][x]
        gemm.locator(f"figure[data-chart='{chart}']").scroll_into_view_if_needed()
        gemm.mouse.move(*_point(gemm, chart, x))
        tip = gemm.locator("#tip")
        assert tip.is_visible()
        assert tip.get_attribute("data-sha") == sha == seeded.shas[x]
        text = tip.inner_text()
        assert sha[:10] in text and subject in text and EVIL in subject
        assert f"commit date {date}" in text and date == f"2026-10-{1 + x:02d}"
        for _, machine, stored in runs:
            assert f"{data['machines'][machine]}: latency" in text and stored in text
        assert "interquartile range" in text
    gemm.mouse.move(*_point(gemm, chart, RERUN_OF))
    text = gemm.locator("#tip").inner_text()
    assert "mini-1: latency" in text and "median of 2 runs" in text
    assert f"run {seeded.rerun_id} (2026-10-29 09:00)" in text  # stored last, drawn here
    gemm.context.route(f"{REPO}/**", lambda route: route.fulfill(body="commit page"))
    with gemm.context.expect_page() as popup:
        gemm.mouse.click(*_point(gemm, chart, 5))
    assert popup.value.url == f"{REPO}/commit/{data['commits'][5][0]}"


def test_latest_is_mains_newest_commit_not_the_run_stored_last(
    browser: Any, gemm: Any, site: Site
) -> None:
    """The re-run of commit 5 is the newest stored run; "Latest" stays main's newest
    commit each machine measured, on the benchmark page and the overview."""
    out = site[0]
    shas = site[2].shas
    latest = gemm.locator(f"figure[data-chart='{_chart(gemm)}'] [data-latest] span")
    assert latest.count() == 2
    mini1, mini2 = latest.all_inner_texts()
    assert mini1.startswith("Latest on mini-1:") and f"at {shas[-1][:10]} (2026-10-24)" in mini1
    assert mini2.startswith("Latest on mini-2:") and f"at {shas[22][:10]} (2026-10-23)" in mini2
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Watched(context).open((out / "index.html").as_uri())
    rows = page.locator("#latest tbody tr").all_inner_texts()
    assert rows[0].startswith("mini-1") and shas[-1][:10] in rows[0]
    assert rows[1].startswith("mini-2") and shas[22][:10] in rows[1]
    assert shas[RERUN_OF][:10] not in page.locator("#latest").inner_text()
    context.close()


def test_skip_reasons_are_visible(gemm: Any, site: Site) -> None:
    skipped = gemm.locator("table.outcomes").first
    skipped.scroll_into_view_if_needed()
    assert skipped.is_visible()
    text = skipped.inner_text()
    assert SKIP_REASON in text and "mini-1" in text and "mini-2" in text  # the text, as stored
    assert (
        gemm.locator("section.variant", has_text="backend=coreml")
        .locator("text=No measurements of this variant on main yet")
        .is_visible()
    )
    error = gemm.locator("tr.outcome-error")
    assert error.is_visible() and ERROR_REASON in error.inner_text()
    with gemm.expect_navigation():
        error.locator("a").first.click()  # the run: its row on the runs page
    row = gemm.locator(f"tr#{gemm.url.rsplit('#', 1)[1]}")
    assert row.is_visible() and site[2].shas[FAILED_AT][:10] in row.inner_text()
    reason = row.locator("li.outcome-error")
    assert reason.is_visible() and ERROR_REASON in reason.inner_text()
    row.locator("li.outcome-skipped summary").click()
    link = row.locator("li.outcome-skipped details a")
    assert link.is_visible() and "backend=coreml" in link.inner_text()
    assert gemm.evaluate("window.__pwned === undefined")


def test_wheel_zooms_and_buttons_pan_and_reset(gemm: Any) -> None:
    chart = gemm.evaluate("Object.keys(window.perfciCharts)[0]")
    full = gemm.evaluate(f"window.perfciCharts['{chart}'].scales.x.max")
    gemm.locator(f"figure[data-chart='{chart}']").scroll_into_view_if_needed()
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


def test_overview_filters(browser: Any, site: Site) -> None:
    out = site[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Watched(context).open((out / "index.html").as_uri())

    def visible() -> list[str]:
        return page.locator("tr.bench:visible td:first-child").all_inner_texts()  # type: ignore[no-any-return]

    assert len(visible()) == 4
    page.select_option("select[name=dtype]", "float16")
    assert len(visible()) == 2 and all("dtype=float16" in v for v in visible())
    page.select_option("select[name=dtype]", "")
    page.select_option("select[name=backend]", "torch")
    assert len(visible()) == 1 and "note=" in visible()[0]
    page.select_option("select[name=backend]", "")
    page.fill("input[name=text]", "N=512")
    assert len(visible()) == 3
    page.fill("input[name=text]", "no such benchmark")
    assert visible() == [] and page.locator("#shown").inner_text() == "0 of 4 shown"
    page.fill("input[name=text]", "")
    page.select_option("select[name=machine]", "mini-2")
    assert len(visible()) == 3  # the Core ML variant measured nothing anywhere
    assert page.locator("#alerts tbody tr").count() == 1  # the open alert; not the acknowledged
    context.close()
