"""The PR comment as people see it: rendered by a GitHub-flavoured Markdown renderer
(cmarkgfm, GitHub's own cmark-gfm) and drawn in a real headless Chromium, for a
7-benchmark and a 500-benchmark comparison. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from factories import benchmark, run, sha

from perfci.baseline import compare_head, main_trends
from perfci.compare import MIN_RUNS, Baseline, Comparison
from perfci.config import Config
from perfci.dashboard.naming import comparison_anchor
from perfci.github.comment import COMMENT_LIMIT, MARKDOWN_LIMIT, comment_body
from perfci.report.comment import (
    CommentExtras,
    SameJob,
    Why,
    comment_markdown,
    duration_text,
    sparkline,
)
from perfci.report.markdown import code
from perfci.results import RunInfo
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from perfci.store.queries import RunRow, get_run
from perfci.verdicts import metric_key

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm is a dev extra")
from cmarkgfm.cmark import Options  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"
PAGE = "https://acme.github.io/models/pr/7.html"
TREND = [1.0, 1.1, 0.9, 1.3]
HOSTILE = "test_<img src=x onerror=alert(1)>|@octocat #123 a@b.io `x` **b** [l](http://e.vil)"
BASE_RUN = RunRow(
    12,
    "a" * 40,
    "main",
    "Base",
    "mac-mini",
    "mf",
    "ef",
    datetime(2026, 11, 30, tzinfo=UTC),
    "passed",
    "quick",
    "push",
    "perfci",
    40,
    0,
    0,
)


def base(history: int = 0) -> Baseline:
    run = BASE_RUN
    reason = "3 runs (newest: run 12) of its first-parent ancestor aaaaaaaaaaaa, 1 commit back"
    return Baseline(run, reason, (run, run, run), noise_runs=tuple(range(history)))


def comparison(name: str, verdict: str, ratio: float | None, **kw: Any) -> Comparison:
    ci = kw.pop("ci", None if ratio is None else (ratio * 0.97, ratio * 1.03))
    fields: dict[str, Any] = dict(
        benchmark=f"benchmarks/color::{name}",
        params={"device": "cpu", "B": 1},
        metric="latency",
        unit="s",
        direction="lower",
        verdict=verdict,
        ratio=ratio,
        ci=ci,
        p_value=None,
        n_base=30,
        n_head=30,
        noise="runs",
        detectable=None,
    )
    fields.update(kw)
    return Comparison(**fields)


def seven() -> list[Comparison]:
    """A real suite's shape: one regression, six too noisy to tell, a hostile name."""
    rows = [comparison("test_pt_sf_load_cpu_small", "regression", 1.303, ci=(1.221, 1.390))]
    for i in range(5):
        rows.append(
            comparison(
                f"test_pt_sf_{i}", "inconclusive", 1.02, ci=(0.7, 1.5), detectable=0.089 + i / 100
            )
        )
    rows.append(comparison(HOSTILE, "inconclusive", 0.99, ci=(0.6, 1.6), detectable=0.3))
    return rows


def five_hundred() -> list[Comparison]:
    rows = [
        comparison("test_gemm", "regression", 1.18, params={"n": 1024, "dtype": "float16"}),
        comparison("test_gemm", "regression", 1.31, params={"n": 4096, "dtype": "float16"}),
        comparison("test_conv", "improvement", 0.8, params={"n": 64, "dtype": "float16"}),
    ]
    for i in range(497):
        metric = ("latency", "throughput", "peak_memory")[i % 3]
        rows.append(
            comparison(
                f"test_variant_{i:03d}",
                "unchanged",
                1.0,
                ci=(0.99, 1.012),
                metric=metric,
                params={"n": i, "dtype": "float16"},
            )
        )
    return rows


class Rendered(HTMLParser):
    """Text of the rendered comment, split into what shows at once and what a reader
    opens in a <details>; the tags and links as rendered."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.depth = 0
        self.summary = 0
        self.code = 0
        self.visible: list[str] = []
        self.folded: list[str] = []
        self.outside_code: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.depth += tag == "details"
        self.summary += tag == "summary"
        self.code += tag == "code"
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "details"
        self.summary -= tag == "summary"
        self.code -= tag == "code"

    def handle_data(self, data: str) -> None:
        # a <details> shows its <summary>; the rest opens on a click
        (self.folded if self.depth and not self.summary else self.visible).append(data)
        if not self.code:
            self.outside_code.append(data)


def render(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def anchor(c: Comparison) -> str:
    return comparison_anchor(c.benchmark, c.params, c.metric)


def extras(rows: list[Comparison]) -> CommentExtras:
    trends = {metric_key(*c.benchmark.split("::"), c.params, c.metric): TREND for c in rows}
    return CommentExtras(PAGE, trends)


def test_the_first_line_tells_the_verdict_and_names_the_worst_regression() -> None:
    text = comment_markdown(base(), seven(), extras=extras(seven()))
    first = text.splitlines()[0]
    assert first.startswith("**perfci: 1 regression**"), first
    assert "`test_pt_sf_load_cpu_small` (`B=1, device=cpu`) latency +30.3%" in first
    assert "6 inconclusive" in first
    html = Rendered(render(text))
    assert "".join(html.visible).lstrip().startswith("perfci: 1 regression")


def test_nothing_changed_and_nothing_decided_say_so_plainly() -> None:
    same = [comparison(f"t{i}", "unchanged", 1.0, ci=(0.98, 1.021)) for i in range(4)]
    assert comment_markdown(base(), same).splitlines()[0] == (
        "**perfci: no change** — 4 metrics unchanged, each within ±2.1%"
    )
    unknown = [comparison(f"t{i}", "inconclusive", 1.0, noise="assumed") for i in range(3)]
    first = comment_markdown(base(), unknown).splitlines()[0]
    need = f"**perfci: nothing decided yet** — 3 metrics need {MIN_RUNS} runs in all"
    assert first.startswith(need)
    none = Baseline(None, "no earlier run of this commit or its ancestors")
    assert comment_markdown(none, []).splitlines()[0] == (
        "**perfci: no comparison** — no earlier run of this commit or its ancestors."
    )


def test_changes_are_on_top_and_everything_else_is_folded_by_reason() -> None:
    rows = [*seven(), comparison("test_fast", "improvement", 0.8, ci=(0.75, 0.85))]
    rows += [comparison(f"test_same_{i}", "unchanged", 1.0, ci=(0.98, 1.02)) for i in range(3)]
    html = Rendered(render(comment_markdown(base(history=9), rows, extras=extras(rows))))
    visible, folded = " ".join(html.visible), " ".join(html.folded)
    assert "test_pt_sf_load_cpu_small" in visible and "test_fast" in visible
    assert "test_same_0" in folded and "test_same_0" not in visible
    assert "test_pt_sf_0" in folded and "test_pt_sf_0" not in visible
    assert "3 unchanged: each within ±2.0%" in visible  # the fold's summary shows
    assert "6 inconclusive: too noisy to tell, the smallest could detect ±8.9%" in visible
    assert "9 earlier runs of main for the noise" in visible
    assert f"{PAGE}#{anchor(rows[0])}" in html.links
    assert sparkline(TREND) in visible


def test_parameters_that_every_row_shares_are_said_once() -> None:
    rows = five_hundred()[:2]
    text = comment_markdown(base(), rows)
    assert "All rows: `dtype=float16`." in text
    assert "| [`test_gemm`]" not in text  # no page given: the name is not a link
    assert "| `test_gemm` | `n=4096` | `latency` | **+31.0%** |" in text


def test_hostile_names_render_as_text_and_raw_markdown_stays_readable() -> None:
    text = comment_markdown(base(), seven(), extras=extras(seven()))
    html = Rendered(render(text))
    assert "img" not in html.tags and "script" not in html.tags
    assert all(link.startswith(PAGE) for link in html.links), html.links
    outside = "".join(html.outside_code)
    for live in ("@octocat", "#123", "a@b.io", "http://e.vil"):
        assert live not in outside, live  # only inside code, where GitHub links nothing
    # the table keeps its columns: the pipe in the name does not split a cell
    row = next(line for line in text.splitlines() if "onerror" in line)
    assert row.count(" | ") == text.splitlines()[text.splitlines().index(row) - 1].count(" | ")
    assert "&#58;" not in text and "test_pt_sf_load_cpu_small" in text


def test_code_spans_hold_any_backticks() -> None:
    for text in ("plain", "`tick`", "a``b", "x|y"):
        html = render(code(text, in_table=False))
        assert re.sub(r"</?(p|code)>", "", html).strip() == (
            text.replace("&", "&amp;").replace("<", "&lt;")
        ), (text, html)


def test_five_hundred_benchmarks_fit_with_the_summary_the_changes_and_the_link() -> None:
    rows = five_hundred()
    body = comment_body(
        comment_markdown(base(), rows, extras=extras(rows), limit=MARKDOWN_LIMIT), page_url=PAGE
    )
    assert len(body) <= COMMENT_LIMIT
    html = Rendered(render(body))
    visible = " ".join(html.visible)
    assert visible.lstrip().startswith("perfci: 2 regressions, 1 improvement")
    assert "n=4096" in visible and "n=64" in visible
    assert "497 unchanged: each within ±1.2%" in visible
    assert "…and 397 more, listed on the dashboard page." in " ".join(html.folded)
    assert PAGE in html.links


def test_a_tight_limit_drops_the_folds_first() -> None:
    rows = five_hundred()
    full = comment_markdown(base(), rows, extras=extras(rows))
    short = comment_markdown(base(), rows, extras=extras(rows), limit=len(full) // 3)
    assert len(short) <= len(full) // 3
    html = Rendered(render(comment_body(short, page_url=PAGE)))
    visible = " ".join(html.visible)
    assert visible.lstrip().startswith("perfci: 2 regressions, 1 improvement")
    assert "n=4096" in visible and "n=64" in visible  # the changes stay
    assert "497 unchanged: each within ±1.2% (listed on the dashboard page)" in visible
    assert "test_variant_000" not in visible + " ".join(html.folded)
    assert PAGE in html.links


def _why(name: str, rows: int) -> Why:
    body = "\n".join(f"| `aten::op_{i}` | +{i} µs/call |" for i in range(rows))
    markdown = f"<details><summary>Why {name} changed</summary>\n\n| entry | change |\n|---|---|\n"
    return Why(markdown + body + "\n\n</details>", f"- Why {name} changed: left out")


def test_the_why_sections_follow_the_changes_and_give_way_after_the_folds() -> None:
    rows = five_hundred()
    whys = (_why("first", 40), _why("second", 40))
    line = "Why they regressed: 2 benchmark test(s) profiled in 12 s of a 5 min budget."
    more = dataclasses.replace(extras(rows), whys=whys, why_line=line)
    full = comment_markdown(base(), rows, extras=more)
    # after the changes tables, before the folds
    at = [
        full.index(s)
        for s in ("**Improvements**", line, "Why first", "Why second", "<summary>497 unchanged")
    ]
    assert at == sorted(at)
    plain = comment_markdown(base(), rows, extras=extras(rows))
    folds_gone = comment_markdown(base(), rows, extras=extras(rows), limit=len(plain) // 3)
    # room for the why sections once the folds are summaries: they stay whole
    room = len(folds_gone) + len(whys[0].markdown) + len(whys[1].markdown) + len(line) + 20
    kept = comment_markdown(base(), rows, extras=more, limit=room)
    assert len(kept) <= room and "(listed on the dashboard page)" in kept
    assert whys[0].markdown in kept and whys[1].markdown in kept
    # less room: the last why section gives way first, then the first; the changes stay
    one = comment_markdown(base(), rows, extras=more, limit=room - len(whys[1].markdown) // 2)
    assert whys[0].markdown in one and whys[1].markdown not in one and whys[1].short in one
    none = comment_markdown(base(), rows, extras=more, limit=len(folds_gone) + 200)
    assert whys[0].short in none and whys[1].short in none and "<details>" not in none
    for text in (kept, one, none):
        assert text.startswith("**perfci: 2 regressions, 1 improvement**") and line in text
        assert "n=4096" in text and "n=64" in text


STYLE = """body{font:14px/1.5 -apple-system,'Segoe UI',sans-serif;max-width:880px;margin:16px}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 10px}
code{background:#eff1f3;border-radius:4px;padding:1px 4px;font-size:12px}"""


@pytest.mark.browser
@pytest.mark.parametrize("size", [7, 500])
def test_the_comment_in_a_browser_shows_the_verdict_first_and_the_rest_folded(
    browser: Any, tmp_path: Path, size: int
) -> None:
    rows = seven() if size == 7 else five_hundred()
    rows += [comparison(f"test_same_{i}", "unchanged", 1.0, ci=(0.98, 1.02)) for i in range(3)]
    body = comment_body(
        comment_markdown(base(9), rows, extras=extras(rows), limit=MARKDOWN_LIMIT), page_url=PAGE
    )
    page_file = tmp_path / "comment.html"
    page_file.write_text(f"<!doctype html><meta charset=utf-8><style>{STYLE}</style>{render(body)}")
    page = browser.new_page(viewport={"width": 900, "height": 700})
    page.goto(page_file.as_uri())
    first = page.locator("body > p").first
    assert "perfci:" in first.inner_text() and "regression" in first.inner_text()
    assert first.bounding_box()["y"] < 60  # the verdict is the first thing on the page
    regression = page.locator("table").first.locator("tr").nth(1)
    assert regression.is_visible() and "+" in regression.inner_text()
    folded = page.locator("details table")
    assert folded.count() >= 1
    for i in range(folded.count()):
        assert not folded.nth(i).is_visible()  # closed until the reader opens it
    assert page.evaluate("window.__pwned === undefined")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pr-comment-{size}.png"), full_page=True)
    page.close()


def test_the_trend_is_mains_history_up_to_the_base_one_point_a_commit(store: Store) -> None:
    """Five pushes to main, the first measured twice; a pull request's run, twice as
    slow, on the newest: its trend has one point a commit, oldest first, and none of its
    own (a pull request is not main's history)."""
    shas = [sha(f"m{i}") for i in range(5)]
    levels = [1.0, 1.04, 1.02, 1.06, 1.01]
    pushes = [
        dataclasses.replace(
            run(
                s, parents=tuple(shas[i - 1 : i]), benchmarks=(benchmark(latency=levels[i] * 1e-3),)
            ),
            run=RunInfo(
                str(uuid.uuid4()), *[f"2026-11-0{i + 1}T10:00:00+00:00"] * 2, trigger="push"
            ),
        )
        for i, s in enumerate(shas)
    ]
    again = dataclasses.replace(pushes[0], run=dataclasses.replace(pushes[0].run, run_id="again"))
    pull = dataclasses.replace(
        run(sha("pr"), parents=(shas[-1],), benchmarks=(benchmark(latency=2e-3),)),
        run=RunInfo("pr", *["2026-11-09T10:00:00+00:00"] * 2, trigger="pull_request", pr_number=7),
    )
    stored = ingest_runs(store, [*pushes, again, pull])
    head = get_run(store, stored[-1].run_id)
    assert head is not None
    verdicts = compare_head(head, store, Config(), start=shas[-1], main_only=True)
    trends = main_trends(store, verdicts)
    ((key, trend),) = [(k, t) for k, t in trends.items() if k[3] == "latency"]
    assert key[1] == "test_gemm"
    # one point a commit, oldest first, in the order of main's levels; the pull request's
    # 2 ms is not main's history
    assert sorted(range(5), key=trend.__getitem__) == sorted(range(5), key=levels.__getitem__)
    assert max(trend) < 1.5e-3 and len(trend) == 5
    text = comment_markdown(
        verdicts.baseline, verdicts.comparisons, extras=CommentExtras(PAGE, trends)
    )
    assert sparkline(trend) in text


def test_acknowledged_changes_are_marked_in_the_headline_and_their_row() -> None:
    expected = comparison("test_pt_sf_load_cpu_small", "regression", 1.303, acknowledged="fp32")
    rows = [expected, *seven()[1:]]
    text = comment_markdown(base(), rows)
    assert text.splitlines()[0].startswith("**perfci: 1 regression (1 acknowledged)**")
    row = next(line for line in text.splitlines() if "load_cpu_small" in line and "|" in line)
    assert row.endswith("| acknowledged: fp32 |")


def test_a_same_job_comparison_says_how_it_was_measured_after_the_headline() -> None:
    rows = seven()
    job = SameJob("ABBABAAB" * 2 + "ABBA", (3, 10, 4, 4, 3, 10, 5), 252.4, "the 10-round limit")
    text = comment_markdown(base(), rows, extras=CommentExtras(same_job=job))
    lines = text.splitlines()
    assert lines[0].startswith("**perfci: 1 regression**")  # the headline stays first
    assert lines[2] == (
        "Measured in this job: base and head interleaved, 10 rounds in the order "
        "`ABBA BAAB ABBA BAAB ABBA` (A base, B head); each benchmark 3 to 10 rounds "
        "(median 4); 4 min 12 s of measuring; stopped: the 10-round limit."
    )
    assert lines[4].startswith("Base: ")
    assert "paired over the rounds, hold at every look" in text
    html = Rendered(render(text))
    visible = "".join(html.visible)
    assert visible.index("perfci: 1 regression") < visible.index("Measured in this job")
    assert "ABBA BAAB ABBA BAAB ABBA" in visible and html.tags.count("details") == 1
    # a history comparison says nothing of rounds
    assert "Measured in this job" not in comment_markdown(base(), rows)
    assert "include run-to-run noise" in comment_markdown(base(), rows)


def test_the_rounds_and_the_time_read_as_counted() -> None:
    def line(job: SameJob) -> str:
        return comment_markdown(base(), seven(), extras=CommentExtras(same_job=job)).splitlines()[2]

    assert "each benchmark 3 rounds; 42 s of measuring" in line(
        SameJob("ABBABA", (3, 3), 41.6, "every metric decided")
    )
    assert "1 round in the order `AB`" in line(SameJob("AB", (1,), 3, "the time budget"))
    assert "3 to 6 rounds (median 4.5)" in line(SameJob("AB" * 6, (3, 4, 5, 6), 9, "x"))
    long = line(SameJob("AB" * 40, (40,), 5000, "the 40-round limit"))
    assert "`" + " ".join(["ABAB"] * 12) + " …`" in long and "1 h 23 min" in long
    hostile = line(SameJob("AB", (1,), 1, "<img src=x> @octocat"))
    assert "<img" not in hostile and "@octocat" not in hostile
    assert [duration_text(s) for s in (0, 59.4, 60, 3599, 3600)] == [
        "0 s", "59 s", "1 min 0 s", "59 min 59 s", "1 h 0 min",
    ]  # fmt: skip
