"""The pull-request page's why section in a real headless Chromium (Debian's, through
Playwright), the site served over HTTP as Pages serves it: the diff table's rows are on
the page with their hostile names shown as text, no script of theirs runs, the verdict
links to its why section, and a trace link downloads the kept trace."""

from __future__ import annotations

import functools
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_keep_explain import HOSTILE, explained_folder, hostile_diff
from test_pull_explain import kept_data, site_of

from perfci.ab.diff_file import FOLDER
from perfci.dashboard import naming
from perfci.explain.render import change_cells

pytestmark = pytest.mark.browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The site of a kept A/B comparison whose regression was profiled, on a local HTTP
    server; its address and the artifact it was kept from."""
    root = tmp_path_factory.mktemp("pull-explain-site")
    folder = explained_folder(root / "perfci-pr")
    site = site_of(root, kept_data(folder, root / "perfci-data"))
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_page_shows_the_diffs_rows_and_serves_its_traces(
    browser: Any, served: tuple[str, Path], tmp_path: Path
) -> None:
    url, folder = served
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def answered(response: Any) -> None:  # the browser's own favicon.ico aside
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("response", answered)
    page.goto(f"{url}/{naming.pull_request_page(42)}")
    page.wait_for_load_state("load")
    assert errors == [] and page.evaluate("window.__pwned === undefined")

    rows = page.locator("table.diff tbody tr")
    diff = hostile_diff()
    assert rows.count() == sum(len(s.changes) for s in diff.sections)
    first = [c.strip() for c in rows.nth(0).locator("td").all_inner_texts()]
    cells = change_cells(diff.sections[0].changes[0])
    assert first[0].startswith(HOSTILE)  # shown as the very characters, not markup
    assert first[1:9] == [cells[k] for k in ("kind", "status", "base", "head", "delta",
                                             "noise", "calls", "calls_delta")]  # fmt: skip
    assert rows.nth(0).is_visible()

    page.locator("a.why-link").first.click()
    assert page.evaluate("location.hash").startswith("#why-")

    link = page.locator("a.trace").first
    assert link.inner_text() == "base-1/torch-trace.json"
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / "trace.json.gz"
    info.value.save_as(saved)
    source = folder / FOLDER / "test-work" / "base-1" / "profile" / "torch-trace.json"
    assert json.loads(gzip.decompress(saved.read_bytes())) == json.loads(source.read_text())
    assert errors == []
    context.close()
