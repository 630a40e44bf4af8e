"""The static site: pages, escaping, offline links, URL scheme, incremental rebuilds, CLI."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from factories import benchmark, run, sha
from site_data import (
    ERROR_REASON,
    EVIL,
    EVIL_SUITE,
    FAILED_AT,
    GEMM,
    PR_NUMBER,
    RERUN_OF,
    SKIP_REASON,
    SKIPPED,
    UPGRADED,
    VARIANTS,
    add_alert,
    page_data,
    run_values,
    seed,
)
from sqlalchemy import func, select
from test_cli import perfci

from perfci.compare import Comparison
from perfci.dashboard import build_site, naming
from perfci.dashboard.pulls import verdict_rows
from perfci.dashboard.vendor import TARGET, update, vendored_version
from perfci.store import Store
from perfci.store.ingest import benchmark_key, ingest_runs
from perfci.store.models import Alert, Benchmark, Commit, Machine, Measurement, Run

GEMM_PAGE = naming.benchmark_page(GEMM, "test_gemm")
EVIL_PAGE = naming.benchmark_page(EVIL_SUITE, EVIL)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(path: Path) -> Tags:
    tags = Tags()
    tags.feed(path.read_text())
    return tags


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_site_has_every_page_and_nothing_from_the_store_becomes_markup(
    store: Store, tmp_path: Path
) -> None:
    seed(store)
    out = tmp_path / "site"
    report = build_site(store, out, repo_url="https://github.example/acme/models")
    names = {p.relative_to(out).as_posix() for p in pages(out)}
    expected = {"index.html", "runs.html", "machines.html", "backends.html", GEMM_PAGE, EVIL_PAGE}
    assert names == expected | {naming.pull_request_page(PR_NUMBER)}
    assert report.pages == len(names)
    for page in pages(out):
        text = page.read_text()
        assert EVIL not in text, page
        tags = parse(page)
        assert not [t for t, _ in tags.tags if t in ("img", "iframe", "object")], page
        for tag, attrs in tags.tags:
            assert not [a for a in attrs if a.startswith("on")], (page, tag, attrs)
            if tag == "script":  # only our own files, or inert JSON data
                assert attrs.get("type") == "application/json" or attrs.get("src"), page
        for data in tags.scripts:  # embedded JSON parses back to the hostile text intact
            json.loads(data)
    overview = (out / "index.html").read_text()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in overview
    gemm = (out / GEMM_PAGE).read_text()
    for reason in (SKIP_REASON, ERROR_REASON):  # skip and error reasons: text, not markup
        escaped = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = escaped.replace('"', "&#34;").replace("'", "&#39;")
        assert f'<td class="reason">{escaped}</td>' in gemm
        assert f'<span class="reason">{escaped}</span>' in (out / "runs.html").read_text()
    embedded = page_data(out, GEMM_PAGE)
    assert embedded["commits"][0][1].endswith(EVIL)  # the subject, exact, as data
    chunks = "".join((out / p).read_text() for p in re.findall(r'src="\.\./(d/[^"]+)"', gemm))
    assert "\\u003cscript\\u003e" in chunks and EVIL not in chunks


def test_the_site_works_offline_from_any_folder(store: Store, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "site"
    build_site(store, out, repo_url="https://github.example/acme/models")
    for page in pages(out):
        for tag, attrs in parse(page).tags:
            for name in ("src", "href"):
                url = attrs.get(name)
                if url is None or url.startswith("#"):
                    continue
                if re.match(r"[a-z]+:", url):  # only links out, never a loaded resource
                    assert tag == "a" and url.startswith("https://"), (page, tag, url)
                    continue
                target = (page.parent / url.split("#")[0]).resolve()
                assert target.is_file(), (page, url)
                assert out.resolve() in target.parents, (page, url)
    for asset in (out / "static").rglob("*.css"):
        assert not re.search(r"url\((?!data:)", asset.read_text()), asset
    runs = (out / "runs.html").read_text()
    assert "javascript:" not in runs and 'href="https://ci.example/run/1"' in runs
    assert (out / "static/vendor/uplot/LICENSE").read_text().startswith("The MIT License")


def _stored_on_main(store: Store, shas: list[str]) -> dict[tuple[str, str], int]:
    """Measurements of GEMM's latency per variant key and machine: runs of main's
    commits outside pull requests."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Benchmark.key, Machine.name, func.count())
            .join(Measurement, Measurement.benchmark_id == Benchmark.id)
            .join(Run, Run.id == Measurement.run_id)
            .join(Commit, Commit.id == Run.commit_id)
            .join(Machine, Machine.id == Run.machine_id)
            .where(Benchmark.suite == GEMM, Measurement.metric == "latency")
            .where(Run.trigger != "pull_request", Commit.sha.in_(shas))
            .group_by(Benchmark.key, Machine.name)
        ).all()
    return {(naming.variant_anchor(key), machine): n for key, machine, n in rows}


def test_chart_data_holds_every_stored_point_and_the_events(store: Store, tmp_path: Path) -> None:
    seeded = seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    data = page_data(out, GEMM_PAGE)
    stored = _stored_on_main(store, seeded.shas)
    for variant in data["variants"]:
        if variant["params"] == SKIPPED:
            assert variant["charts"] == []  # skipped in every run: nothing to draw
            continue
        (latency,) = [c for c in variant["charts"] if c["metric"] == "latency"]
        values = run_values(latency, data)
        for machine in ("mini-1", "mini-2"):
            drawn = sum(len(v) for (m, _), v in values.items() if m == machine)
            assert drawn == stored[(variant["anchor"], machine)]
        assert latency["count"] == sum(len(v) for v in values.values())
        assert latency["commits"] == len(seeded.shas)
        assert len(latency["series"]) == 2  # one per machine
        kinds = [e["kind"] for e in latency["events"]]
        # the torch upgrade on mini-1; the re-run of an old commit in the new environment
        # is not another change
        assert kinds.count("environment") == 1
        (env,) = [e for e in latency["events"] if e["kind"] == "environment"]
        assert "torch 2.7.1 → 2.8.0" in env["text"]
        assert data["commits"][env["x"]][0] == seeded.shas[12]
    float32 = next(v for v in data["variants"] if "float32" in v["label"])
    events = float32["charts"][0]["events"]
    (alert,) = [e for e in events if e["kind"] == "regression"]
    assert data["commits"][alert["x"]][0] == sha("commit-18")


def test_charts_follow_the_first_parent_chain_not_the_storage_order(
    store: Store, tmp_path: Path
) -> None:
    """x is a commit of main's first-parent chain, oldest first; the re-run of an old
    commit, stored last, is a second point at that commit, the line through their median;
    the pull request's and the feature branch's runs are not on main's chart."""
    seeded = seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    data = page_data(out, GEMM_PAGE)
    assert [c[0] for c in data["commits"]] == seeded.shas
    assert [c[2] for c in data["commits"]] == [f"2026-10-{1 + i:02d}" for i in range(24)]
    rerun = data["commits"][RERUN_OF]
    assert [r[0] for r in rerun[3] if data["machines"][r[1]] == "mini-1"][-1] == seeded.rerun_id
    float32 = next(v for v in data["variants"] if "float32" in v["label"])
    latency = next(c for c in float32["charts"] if c["metric"] == "latency")
    mini1 = next(s for s in latency["series"] if data["machines"][s["machine"]] == "mini-1")
    (first, again) = mini1["runs"][RERUN_OF]
    assert again[0] == seeded.rerun_id and first[0] < again[0]
    assert mini1["median"][RERUN_OF] == pytest.approx((first[1] + again[1]) / 2)
    assert all(len(r) == 1 for x, r in mini1["runs"].items() if x != RERUN_OF)
    text = "".join(
        (out / p).read_text()
        for p in re.findall(r'src="\.\./(d/[^"]+)"', (out / GEMM_PAGE).read_text())
    )
    for off in (sha("pr-head"), sha("feature-1")):
        assert off not in text


def test_each_value_names_its_run_where_a_commit_has_several(store: Store, tmp_path: Path) -> None:
    """Two runs of one commit on one machine, the second measuring only one variant: that
    variant's chart has both runs at the commit, the other's names the one run it has."""
    shas = [sha(f"few-{i}") for i in range(3)]
    both = (benchmark(params=VARIANTS[0]), benchmark(params=VARIANTS[1], seed=1))
    results = [
        run(
            commit=c,
            parents=tuple(shas[i - 1 : i]),
            benchmarks=both,
            started_at=f"2026-10-0{i + 1}T10:00:00+00:00",
        )
        for i, c in enumerate(shas)
    ]
    ingest_runs(store, results)
    again = run(
        commit=shas[1],
        parents=(shas[0],),
        benchmarks=(benchmark(params=VARIANTS[0], latency=1.2e-3, seed=2),),
        started_at="2026-10-09T10:00:00+00:00",
    )
    (first,) = ingest_runs(store, [again])
    out = tmp_path / "site"
    build_site(store, out)
    data = page_data(out, GEMM_PAGE)
    assert [c[0] for c in data["commits"]] == shas
    assert [r[0] for r in data["commits"][1][3]] == [2, first.run_id]  # both runs listed
    by_dtype = {v["params"]["dtype"]: v for v in data["variants"]}
    for dtype, runs in (("float32", [2, first.run_id]), ("float16", [2])):
        latency = next(c for c in by_dtype[dtype]["charts"] if c["metric"] == "latency")
        (series,) = latency["series"]
        assert [r[0] for r in series["runs"][1]] == runs and list(series["runs"]) == [1]


def test_latest_is_the_newest_commit_of_the_branch_not_the_newest_run(
    store: Store, tmp_path: Path
) -> None:
    seeded = seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    overview = (out / "index.html").read_text()
    latest = re.search(r'<section id="latest">(.*?)</section>', overview, re.S)[1]  # type: ignore[index]
    cells = r'<tr>\s*<td><a href="machines\.html#m-\d+">([\w-]+)</a></td>\s*<td>(.*?)</td>'
    rows = dict(re.findall(cells, latest, re.S))
    assert seeded.shas[-1][:10] in rows["mini-1"]  # not the re-run of commit 5, stored last
    assert seeded.shas[22][:10] in rows["mini-2"] and "1 commit behind" in rows["mini-2"]
    assert "Branch main is at" in latest and seeded.shas[-1][:10] in latest
    assert f"#run-{seeded.rerun_id}" not in latest
    float32 = re.search(r'<tr class="bench"[^>]*float32.*?</tr>', overview, re.S)[0]  # type: ignore[index]
    assert f"mini-1 at {seeded.shas[-1][:10]}" in float32


def test_a_change_is_coloured_only_where_a_verdict_calls_it(store: Store, tmp_path: Path) -> None:
    seeded = seed(store)
    tip = sha("slow-tip")
    ingest_runs(
        store,
        [
            run(
                commit=tip,
                parents=(seeded.shas[-1],),
                benchmarks=(benchmark(suite=GEMM, params=VARIANTS[1], latency=9e-4, seed=1),),
                started_at="2026-10-30T10:00:00+00:00",
                environment=UPGRADED,
            )
        ],
    )
    out = tmp_path / "site"
    build_site(store, out)

    def float16() -> str:
        overview = (out / "index.html").read_text()
        return re.search(r'<tr class="bench"[^>]*"mlx"[^>]*"float16".*?</tr>', overview, re.S)[0]  # type: ignore[index]

    row = float16()
    assert "+50." in row  # 600 µs to 900 µs, but no verdict behind it: neutral
    assert "worse" not in row and "better" not in row
    with store.engine.connect() as conn:
        tip_id = conn.execute(select(Commit.id).where(Commit.sha == tip)).scalar_one()
    add_alert(store, VARIANTS[1], 0, "regression", 1.5, "open")
    with store.engine.begin() as conn:  # the detector's alert is at the new commit
        conn.execute(
            Alert.__table__.update().where(Alert.magnitude == 1.5).values(commit_id=tip_id)
        )
    build_site(store, out)
    row = float16()
    assert 'class="num worse" title="regression alert (open)"' in row


def test_skip_reasons_are_on_the_benchmark_page_and_the_run_page(
    store: Store, tmp_path: Path
) -> None:
    seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    gemm = (out / GEMM_PAGE).read_text()
    anchor = naming.variant_anchor(benchmark_key(GEMM, "test_gemm", SKIPPED))
    section = re.search(rf'<section class="variant" id="{anchor}">(.*?)</section>', gemm, re.S)[1]  # type: ignore[index]
    assert "No measurements of this variant on main yet" in section
    rows = re.findall(r'<tr class="outcome-skipped">(.*?)</tr>', section, re.S)
    assert len(rows) == 2 and all("Core ML prediction needs coremltools 8" in r for r in rows)
    assert any("mini-1" in r and ">26<" in r for r in rows)  # every run of mini-1 skipped it
    failed = re.findall(r'<tr class="outcome-error">(.*?)</tr>', gemm, re.S)
    assert len(failed) == 1 and "MPS backend out of memory" in failed[0]
    (link,) = re.findall(r'href="\.\./(runs\.html#run-\d+)"', failed[0])
    page, run_anchor = link.split("#")
    runs = (out / page).read_text()
    row = re.search(rf'<tr id="{run_anchor}">(.*?)</tr>', runs, re.S)[1]  # type: ignore[index]
    assert sha(f"commit-{FAILED_AT}")[:10] in row
    assert '<li class="outcome-error"><b>error</b> ×1' in row and "MPS backend out of memory" in row
    assert '<li class="outcome-skipped"><b>skipped</b> ×1' in row
    assert f'href="{GEMM_PAGE}#{anchor}"' in row  # the benchmark it skipped, linked


def test_a_drift_names_where_it_began(store: Store, tmp_path: Path) -> None:
    seed(store)
    add_alert(store, VARIANTS[1], 20, "regression", 1.06, "open", drift_since=14)
    out = tmp_path / "site"
    build_site(store, out)
    overview = (out / "index.html").read_text()
    since = sha("commit-14")[:12]
    assert f"drifting since <code>{since}</code>" in overview
    data = page_data(out, GEMM_PAGE)
    texts = [e["text"] for v in data["variants"] for c in v["charts"] for e in c["events"]]
    assert sum(f"drifting since {since}" in t for t in texts) == 1


def test_rebuilding_rewrites_only_what_changed(sqlite_url: str, tmp_path: Path) -> None:
    from perfci.store import open_store

    store = open_store(sqlite_url)
    seed(store)
    out = tmp_path / "site"
    first = build_site(store, out)
    assert GEMM_PAGE in first.written and "static/charts.js" in first.written
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    again = build_site(store, out)
    assert [p for p in again.written if p != "index.html"] == []  # the build time may tick

    ingest_runs(
        store,
        [
            run(
                commit=sha("new"),
                parents=(sha("commit-23"),),
                benchmarks=(benchmark(suite=GEMM, params=VARIANTS[1], latency=6e-4),),
                started_at="2026-10-30T10:00:00+00:00",
            )
        ],
    )
    one_run = build_site(store, out)
    assert GEMM_PAGE in one_run.written and "runs.html" in one_run.written
    assert EVIL_PAGE not in one_run.written and "static/charts.js" not in one_run.written
    assert (out / EVIL_PAGE).stat().st_mtime_ns == mtimes[out / EVIL_PAGE]

    add_alert(store, VARIANTS[1], 20, "regression", 1.3, "open")
    alerted = build_site(store, out)
    assert GEMM_PAGE in alerted.written and EVIL_PAGE not in alerted.written
    assert "index.html" in alerted.written

    (out / GEMM_PAGE).unlink()  # a page lost from the folder is written again
    assert GEMM_PAGE in build_site(store, out).written
    store.close()


def _chunks(out: Path, page: str) -> list[str]:
    html = (out / page).read_text()
    return re.findall(r'<script src="\.\./(d/[^"]+)"></script>', html)


def test_a_rerun_of_an_old_commit_rewrites_only_the_chunk_of_its_commit(
    sqlite_url: str, tmp_path: Path
) -> None:
    """250 commits make three content-addressed chunks of 100 commits; a re-run of commit
    10, stored last, changes only the first, and is drawn at commit 10; a new commit
    changes only the last."""
    from perfci.store import open_store

    store = open_store(sqlite_url)
    shas = [sha(f"long-{i}") for i in range(250)]
    ingest_runs(
        store,
        [
            run(
                commit=c,
                parents=(shas[i - 1],) if i else (),
                benchmarks=(benchmark(seed=i),),
                started_at=f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}T10:00:00+00:00",
            )
            for i, c in enumerate(shas)
        ],
    )
    out = tmp_path / "site"
    build_site(store, out)
    before = _chunks(out, GEMM_PAGE)
    assert [re.search(r"-(\d+)-[0-9a-f]{12}\.js$", p)[1] for p in before] == ["0", "1", "2"]  # type: ignore[index]

    again = run(
        commit=shas[10],
        parents=(shas[9],),
        benchmarks=(benchmark(latency=1.1e-3, seed=99),),
        started_at="2027-01-01T10:00:00+00:00",
    )
    (rerun,) = ingest_runs(store, [again])
    report = build_site(store, out)
    after = _chunks(out, GEMM_PAGE)
    assert after[1:] == before[1:] and after[0] != before[0]
    assert [p for p in report.written if p.startswith("d/")] == [after[0]]
    assert not (out / before[0]).exists()  # no longer referenced: removed
    data = page_data(out, GEMM_PAGE)
    assert [c[0] for c in data["commits"]] == shas  # the re-run moved nothing
    latency = next(c for c in data["variants"][0]["charts"] if c["metric"] == "latency")
    (series,) = latency["series"]
    assert [r[0] for r in series["runs"][10]][-1] == rerun.run_id
    assert list(series["runs"]) == [10]

    ingest_runs(
        store,
        [
            run(
                commit=sha("long-tip"),
                parents=(shas[-1],),
                benchmarks=(benchmark(seed=7),),
                started_at="2027-01-02T10:00:00+00:00",
            )
        ],
    )
    report = build_site(store, out)
    newest = _chunks(out, GEMM_PAGE)
    assert newest[:2] == after[:2] and newest[2] != after[2]
    assert [p for p in report.written if p.startswith("d/")] == [newest[2]]
    store.close()


def test_a_rebuild_with_other_options_rewrites_the_pages(store: Store, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    relinked = build_site(store, out, repo_url="https://github.example/acme/models")
    assert GEMM_PAGE in relinked.written
    assert "https://github.example/acme/models/commit/" in (out / GEMM_PAGE).read_text()


def test_benchmark_file_names_are_readable_stable_and_collision_free() -> None:
    page = naming.benchmark_page("suites/mlx/test_gemm", "test_gemm")
    assert re.fullmatch(r"b/suites-mlx-test_gemm--test_gemm-[0-9a-f]{8}\.html", page)
    assert page == naming.benchmark_page("suites/mlx/test_gemm", "test_gemm")
    alike = {naming.benchmark_page("s", n) for n in ("a b", "a-b", "a/b", "A B")}
    assert len(alike) == 4
    assert naming.pull_request_url("https://acme.github.io/models/", 7) == (
        "https://acme.github.io/models/pr/7.html"
    )
    assert naming.safe_href("javascript:alert(1)") is None
    assert naming.safe_href("https://ci.example/1") == "https://ci.example/1"


def test_the_pull_request_page_shows_the_comparisons_verdicts(store: Store, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    text = (out / naming.pull_request_page(PR_NUMBER)).read_text()
    rows = re.findall(r'<tr id="c-\w+" class="verdict-(\w+)">(.*?)</tr>', text, re.DOTALL)
    by_metric = {(re.search(r"<td>(\w+) <span", r).group(1), v) for v, r in rows}  # type: ignore[union-attr]
    assert ("latency", "regression") in by_metric  # 3 ms against 1.2 ms
    assert sum(v == "missing" for v, _ in rows) == 4  # two benchmarks, two metrics each
    base = re.search(r"<dt>Base</dt><dd>(.*?)</dd>", text, re.S)[1]  # type: ignore[index]
    assert "first-parent" in base and sha("commit-23")[:12] in base  # the PR's parent on main


def test_verdict_rows_put_the_worst_first() -> None:
    def verdict(name: str, verdict: str, ratio: float | None) -> Comparison:
        ci = (ratio * 0.98, ratio * 1.02) if ratio else None
        return Comparison(name, {"n": 1}, "latency", "s", "lower", verdict, ratio, ci, None, 5, 5)  # type: ignore[arg-type]

    rows = verdict_rows(
        [
            verdict("a", "unchanged", 1.0),
            verdict("b", "regression", 1.25),
            verdict("c", "new", None),
        ]
    )
    assert [r.verdict for r in rows] == ["regression", "new", "unchanged"]
    assert rows[0].ratio == "x1.250 (+25.0%)" and rows[0].ci == "1.225 to 1.275"


def test_dashboard_command_builds_and_refuses_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    from perfci.store import open_store

    store = open_store(f"sqlite:///{db}")
    seed(store)
    store.close()
    url = f"sqlite:///{db}"
    out = tmp_path / "site"
    done = perfci("dashboard", "--db", url, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Dashboard: {out / 'index.html'}" in done.stdout

    for args, message in (
        (["--repo-url", "javascript:alert(1)"], "--repo-url must be an http(s) address"),
        (["--base-url", "ftp://x"], "--base-url must be an http(s) address"),
        (["--out", str(db)], "exists and is not a folder"),
        (["--db", f"sqlite:///{tmp_path / 'none.db'}"], "no perfci store at"),
    ):
        fresh = tmp_path / "fresh"
        cli = ["dashboard", "--db", url, "--out", str(fresh), *args]
        result = perfci(*cli, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.splitlines()) == 1
        assert not fresh.exists() and not (tmp_path / "none.db").exists()


def test_the_chart_library_is_vendored_pinned_and_licensed() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", vendored_version())
    assert (TARGET / "LICENSE").read_text().startswith("The MIT License")
    assert f"uPlot (v{vendored_version()})" in (TARGET / "uPlot.iife.min.js").read_text()[:200]
    with pytest.raises(ValueError, match="not an exact version"):
        update("latest", target=Path("/nonexistent"))


def test_machines_page_lists_fingerprints(store: Store, tmp_path: Path) -> None:
    seed(store)
    out = tmp_path / "site"
    build_site(store, out)
    text = (out / "machines.html").read_text()
    with store.engine.connect() as conn:
        fingerprints = conn.execute(select(Machine.fingerprint)).scalars().all()
    assert len(fingerprints) == 2 and all(f in text for f in fingerprints)
    assert "Apple M2" in text and "2.8.0" in text


def _run_rows(page: Path) -> list[str]:
    return re.findall(r'<tr id="run-(\d+)">', page.read_text())


def test_runs_are_paged_oldest_first_and_every_link_finds_its_run(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 10 runs a page: full pages counted from the oldest keep their content as runs
    arrive; runs.html shows the newest 10; the overview links each run where it is."""
    monkeypatch.setattr(naming, "RUNS_PER_PAGE", 10)
    seed(store)  # 39 runs
    out = tmp_path / "site"
    build_site(store, out)
    with store.engine.connect() as conn:
        ids = [str(i) for i in conn.scalars(select(Run.id).order_by(Run.started_at, Run.id))]
    archive = [out / naming.runs_archive_page(n) for n in (1, 2, 3)]
    assert [sorted(_run_rows(p), key=int) for p in archive] == [
        sorted(ids[i : i + 10], key=int) for i in (0, 10, 20)
    ]
    assert not (out / naming.runs_archive_page(4)).exists()  # 9 runs: not a full page yet
    assert sorted(_run_rows(out / "runs.html"), key=int) == sorted(ids[-10:], key=int)
    links = re.findall(r'href="([^"#]+)#run-(\d+)"', (out / "index.html").read_text())
    assert links
    for page, run_id in links:
        assert run_id in _run_rows(out / page)
    before = archive[0].read_bytes()
    commits = [sha(f"late-{i}") for i in range(3)]
    ingest_runs(
        store,
        [
            run(commit=c, started_at=f"2027-01-0{i + 1}T10:00:00+00:00", benchmarks=(benchmark(),))
            for i, c in enumerate(commits)
        ],
    )
    report = build_site(store, out)
    assert naming.runs_archive_page(4) in report.written  # 40 runs: the fourth page filled
    assert naming.runs_archive_page(1) not in report.written
    assert archive[0].read_bytes() == before
