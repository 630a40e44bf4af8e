"""The dashboard's pull-request page from perfci-data's pulls/ folder: a kept A/B
comparison is judged again from its kept rounds, and each regression the page's own
verdicts find shows the head's kept diff in full (every entry, time and calls per call,
new and vanished ones, device moves, the profiler's noise) and links its raw traces,
copied into the site; hostile names are text. A history-mode page attaches a diff only
when it was profiled against the page's own base; a kept folder that fails its checks is
named and left out while the rest of the site is built."""

from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path

import pytest
from factories import benchmark, run, sha, write
from hostile import cli
from test_keep_explain import (
    BASE,
    HEAD,
    HOSTILE,
    NAME,
    NUMBER,
    PARAMS,
    SUITE,
    explained_folder,
    hostile_diff,
    write_profiled,
)

from perfci.ab.diff_file import FOLDER
from perfci.config import Config
from perfci.dashboard import build_site, naming
from perfci.dashboard.kept import INDEX
from perfci.explain.diff import Explanation
from perfci.explain.history import write_entry
from perfci.explain.render import change_cells
from perfci.github.artifact import keep_pull_results, read_pull_results
from perfci.store import open_store


def kept_data(folder: Path, data: Path) -> Path:
    """perfci-data after `perfci keep` of `folder` (checked and kept by its library)."""
    keep_pull_results(read_pull_results(folder, NUMBER, HEAD), data)
    return data / "pulls"


def site_of(tmp_path: Path, pulls: Path, *more: Path) -> Path:
    """The site as perf-pages builds it: a store rebuilt from runs/ and pulls/, then the
    dashboard with --pulls."""
    db = f"sqlite:///{tmp_path / 'site.db'}"
    for source in (*more, pulls):
        done = cli("rebuild", "--from", str(source), "--db", db)
        assert done.code == 0, done
    store = open_store(db)
    try:
        build_site(store, tmp_path / "site", config=Config(), pulls=pulls)
    finally:
        store.close()
    return tmp_path / "site"


def page(site: Path) -> str:
    return (site / naming.pull_request_page(NUMBER)).read_text()


def rows_of(text: str) -> list[str]:
    return re.findall(r'<tr class="change-[a-z_]+">.*?</tr>', text, flags=re.S)


@pytest.fixture
def ab_site(tmp_path: Path) -> tuple[Path, Path]:
    folder = explained_folder(tmp_path / "perfci-pr")
    return site_of(tmp_path, kept_data(folder, tmp_path / "perfci-data")), folder


def test_an_ab_page_shows_the_full_diff_of_its_regression(ab_site: tuple[Path, Path]) -> None:
    site, _ = ab_site
    text = page(site)
    assert "in the same job, base and head interleaved: 4 round(s)" in text
    assert f">{BASE[:10]}<" in text and f">{HEAD[:10]}<" in text
    diff = hostile_diff()
    why = re.search(r'<a class="why-link" href="#(why-[0-9a-f]{12})">why</a>', text)
    assert why is not None and f'<details class="why" id="{why.group(1)}" open>' in text
    # every entry of every section, each figure as the data model gives it, as text
    rows = rows_of(text)
    assert len(rows) == sum(len(s.changes) for s in diff.sections)
    for change in (c for s in diff.sections for c in s.changes):
        cells = change_cells(change)
        assert any(
            f"<code>{html.escape(cells['name'])}</code>" in r
            and f'<td class="num">{cells["delta"]}</td>' in r
            and f'<td class="num">{cells["calls"]}</td>' in r
            for r in rows
        ), cells
    first = rows[0]
    assert f"<code>{html.escape(HOSTILE)}</code>" in first and "<td>changed</td>" in first
    assert "Every change is within the profiler" not in text


def test_hostile_names_are_text_and_nothing_else(ab_site: tuple[Path, Path]) -> None:
    text = page(ab_site[0])
    assert HOSTILE not in text and "<script>window" not in text and "<b>" not in text
    assert html.escape(f"{SUITE}::{NAME}") in text
    assert html.escape(f"note {HOSTILE}") in text


def test_the_traces_are_copied_into_the_site_as_kept(ab_site: tuple[Path, Path]) -> None:
    site, folder = ab_site
    text = page(site)
    links = re.findall(r'<a class="trace" href="\.\./([^"]+)" download>([^<]+)</a>', text)
    assert [name for _, name in links] == [
        f"{p}/torch-trace.json" for p in ("base-1", "head-1", "head-2", "base-2")
    ]
    for href, name in links:
        assert re.fullmatch(r"pr/42/[0-9a-f]{12}/trace-1-[0-9]-[a-z0-9-]+\.json\.gz", href)
        process = name.split("/")[0]
        source = folder / FOLDER / "test-work" / process / "profile" / "torch-trace.json"
        served = json.loads(gzip.decompress((site / href).read_bytes()))
        assert served == json.loads(source.read_text())
    assert text.count("(not kept: not a JSON trace)") == 4


def test_a_diff_within_the_profilers_noise_says_so(tmp_path: Path) -> None:
    quiet = hostile_diff(within_noise=True)
    assert quiet.within_noise
    folder = explained_folder(tmp_path / "perfci-pr", diff=quiet)
    text = page(site_of(tmp_path, kept_data(folder, tmp_path / "perfci-data")))
    assert "Every change is within the profiler's own run-to-run noise." in text
    assert "every change is within the profiler&#39;s own run-to-run noise" in text  # summary


def test_a_kept_diff_never_makes_a_regression(tmp_path: Path) -> None:
    """The rounds judged again find no change: the kept diff explains nothing."""
    folder = explained_folder(tmp_path / "perfci-pr", slower=1.0)
    text = page(site_of(tmp_path, kept_data(folder, tmp_path / "perfci-data")))
    assert 'class="verdict-regression"' not in text and 'id="why"' not in text
    assert 'class="why-link"' not in text


def test_a_kept_folder_that_fails_its_checks_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = explained_folder(tmp_path / "perfci-pr")
    pulls = kept_data(folder, tmp_path / "perfci-data")
    index = pulls / str(NUMBER) / f"{HEAD}-explain" / INDEX
    doc = json.loads(gzip.decompress(index.read_bytes()))
    doc["explain"]["tests"][0]["diff"] = "../../../etc/passwd"
    index.write_bytes(gzip.compress(json.dumps(doc).encode()))
    site = site_of(tmp_path, pulls)
    assert not (site / naming.pull_request_page(NUMBER)).exists()  # no pull_request run
    assert "perfci: leaving out " in capsys.readouterr().err
    assert (site / "index.html").is_file()


# -- history mode: the head's run against main's runs -------------------------------------


def history_runs(folder: Path) -> Path:
    """Main's runs of BASE (its kept runs/ folder) and pull request #42's run of HEAD."""
    folder.mkdir()
    for i in range(4):
        main = run(commit=BASE, benchmarks=(benchmark(NAME, dict(PARAMS), 1e-3, i, SUITE),),
                   started_at=f"2026-11-01T09:{i:02d}:00+00:00")  # fmt: skip
        write(main, folder / f"main-{i}.json")
    return folder


def history_folder(path: Path, slower: float, profiled_base: str) -> Path:
    """perf-pr's history-mode artifact: the head's run, profiled against `profiled_base`."""
    path.mkdir()
    head = run(commit=HEAD, parents=(BASE,), started_at="2026-11-01T10:00:00+00:00",
               benchmarks=(benchmark(NAME, dict(PARAMS), 1e-3 * slower, 9, SUITE),))  # fmt: skip
    doc = json.loads(head.to_json())
    doc["run"].update(trigger="pull_request", pr_number=NUMBER)
    (path / "run-1.json").write_text(json.dumps(doc))
    write_entry(path, profiled_base, HEAD, write_profiled(path, hostile_diff()))
    return path


def history_page(tmp_path: Path, profiled_base: str, slower: float = 1.6) -> str:
    runs = history_runs(tmp_path / "runs")
    folder = history_folder(tmp_path / "perfci-pr", slower, profiled_base)
    return page(site_of(tmp_path, kept_data(folder, tmp_path / "perfci-data"), runs))


def test_a_history_page_shows_the_diff_profiled_against_its_base(tmp_path: Path) -> None:
    text = history_page(tmp_path, BASE)
    assert 'class="verdict-regression"' in text and 'class="why-link"' in text
    assert "Why they regressed: 1 benchmark test(s) profiled on base and head" in text
    assert f"<code>{html.escape(HOSTILE)}</code>" in text and len(rows_of(text)) > 1


def test_a_diff_profiled_against_another_commit_is_left_out(tmp_path: Path) -> None:
    other = sha("not the base")
    text = history_page(tmp_path, other)
    assert 'class="verdict-regression"' in text
    assert f"the head was profiled against {other[:12]}, not the commit of this page" in text
    assert not rows_of(text) and 'class="why-link"' not in text


def explanation_names(e: Explanation) -> list[str]:
    return [c.name for s in e.sections for c in s.changes]


def test_the_rows_follow_the_diffs_order(ab_site: tuple[Path, Path]) -> None:
    """Largest contribution first, as the diff sorts them (the comment's top rows)."""
    names = [
        html.unescape(m)
        for m in re.findall(r'<tr class="change-[a-z_]+"><td><code>(.*?)</code>', page(ab_site[0]))
    ]
    assert names == explanation_names(hostile_diff())


def test_an_ab_comparison_without_profiles_has_its_page(tmp_path: Path) -> None:
    """A kept A/B folder whose regressions were not profiled: the page, judged again from
    the kept rounds, and no why section."""
    from test_ab_comment import HEAD as AB_HEAD
    from test_ab_comment import ab_folder

    folder = ab_folder(tmp_path / "perfci-pr")
    keep_pull_results(read_pull_results(folder, NUMBER, AB_HEAD), tmp_path / "perfci-data")
    text = page(site_of(tmp_path, tmp_path / "perfci-data" / "pulls"))
    assert "in the same job, base and head interleaved: 4 round(s)" in text
    assert 'class="verdict-regression"' in text and "test_gemm" in text
    assert 'id="why"' not in text


def test_pulls_that_is_not_a_folder_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'site.db'}"
    assert cli("rebuild", "--from", str(history_runs(tmp_path / "runs")), "--db", db).code == 0
    done = cli("dashboard", "--out", str(tmp_path / "site"), "--db", db, "--pulls",
               str(tmp_path / "missing"))  # fmt: skip
    assert done.refused() and "--pulls" in done.err and not (tmp_path / "site").exists()
