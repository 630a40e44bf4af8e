"""Acceptance: perfci on a third-party pytest-benchmark suite, as a user would run it.

kornia's color benchmarks (plain `benchmark` fixtures, parametrised through kornia's own
conftest, torch on CPU; see tests/data/thirdparty/kornia/PROVENANCE.md) in a git repository
of 7 commits: README-only edits around one change to the library (the fifth commit) that
slows `rgb_to_yuv`, and only it, by about a third. Every commit is measured 3 times through
each route a user has, each route with its own store:

- `perfci run --profile quick -- benchmarks/color --optimizer=`;
- `pytest --benchmark-json=FILE --benchmark-min-rounds=5 --benchmark-max-time=0.1
  benchmarks/color --optimizer=`, then `perfci ingest FILE`.

Then: `perfci compare` of the pair around the slowdown flags `rgb_to_yuv`'s latency and
nothing else; of a README-only pair, nothing on any metric; and `perfci detect --branch
main` (history mode) alerts on `rgb_to_yuv` at the slowdown commit and nowhere else. Run
with `-s` to see the suite's measured noise and the time each kind of command took.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from thirdparty_repo import (
    ROUTES,
    SLOWED,
    History,
    brief,
    build_history,
    clean_env,
    compare,
    detect,
    flagged,
    median,
    noise_table,
    parse_json,
    run_medians,
    timings,
)

# Minutes of real processes whose verdicts depend on the machine's quiet: run on demand
# (`python -m pytest -m acceptance`), not in the default run; QUALITY.md has its record.
pytestmark = [pytest.mark.slow, pytest.mark.acceptance]

# 5 parametrised benchmarks, 2 parameter sets each
BENCHMARKS = {
    "benchmarks/color/gray_test::test_grayscale_to_rgb",
    "benchmarks/color/xyz_test::test_rgb_to_xyz_benchmark",
    "benchmarks/color/xyz_test::test_xyz_to_rgb_benchmark",
    "benchmarks/color/yuv_test::test_rgb_to_yuv_benchmark",
    "benchmarks/color/yuv_test::test_yuv_to_rgb_benchmark",
}
MEASURED = 10
PARAM_NAMES = {"B", "C", "H", "W", "device_name", "dtype_name", "optimizer_backend"}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    built = build_history(tmp_path_factory.mktemp("thirdparty"))
    yield built
    print(f"\n{len(built.shas)} commits measured in {built.seconds:.0f}s:\n{timings(built)}")
    print(noise_table(built))


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _label(row: dict[str, Any]) -> str:
    return str(row.get("benchmark", "")).split("[")[0]


def _is_slowed(row: dict[str, Any]) -> bool:
    return _label(row).endswith("::" + SLOWED)


def _is_time(row: dict[str, Any]) -> bool:
    return row.get("unit") == "s"


def _comparisons(history: History, route: str, base: int, head: int) -> list[dict[str, Any]]:
    env = clean_env(history.repo.parent / "home")
    doc = parse_json(compare(history, route, env, base, head))
    assert doc.get("format_version") == 1, doc
    rows: list[dict[str, Any]] = doc["comparisons"]
    latency = [r for r in rows if r["metric"] == "latency"]
    assert {_label(r) for r in latency} == BENCHMARKS and len(latency) == MEASURED, (
        f"every benchmark's latency compared, {base} -> {head}:\n{brief(rows)}\n"
        f"baseline: {json.dumps(doc.get('baseline'))}"
    )
    return rows


def test_the_planted_slowdown_is_real(history: History) -> None:
    """The premise, from pytest-benchmark's own files and no perfci code: rgb_to_yuv's
    median run median moves by at least +15% at the slowdown commit, for both sizes."""
    before = run_medians(history.benchmark_json[history.shas[history.slow - 1]])
    after = run_medians(history.benchmark_json[history.shas[history.slow]])
    assert before and set(before) == set(after), (before, after)
    ratios = {name: median(after[name]) / median(before[name]) for name in before}
    slowed = {n: r for n, r in ratios.items() if n.startswith(SLOWED)}
    assert len(slowed) == 2 and all(r >= 1.15 for r in slowed.values()), ratios


def test_every_command_succeeds(history: History, route: str) -> None:
    failed = [c for c in history.calls[route] if c.returncode != 0]
    assert not failed, "\n\n".join(c.describe() for c in failed[:3])


def test_perfci_run_records_the_plain_benchmark_fixture(history: History) -> None:
    """Each results file of `perfci run` holds every benchmark and parameter set, with
    latency samples (at least the quick profile's 5 rounds) and the parametrisation's
    values as params, and nothing skipped or failed."""
    files = sorted((history.repo / ".perfci" / "results").glob("run-*.json"))
    assert len(files) == len(history.shas) * 3, files
    for path in files:
        doc = json.loads(path.read_text())
        benchmarks = doc.get("benchmarks", [])
        labels = [f"{b['suite']}::{b['name']}" for b in benchmarks]
        assert set(labels) == BENCHMARKS and len(labels) == MEASURED, (
            f"{path.name}: {sorted(labels)}; outcomes: {json.dumps(doc.get('outcomes'))[:2000]}"
        )
        assert not doc.get("outcomes"), (path.name, doc["outcomes"])
        for label, b in zip(labels, benchmarks, strict=True):
            assert set(b["params"]) >= PARAM_NAMES, (path.name, label, b["params"])
            latency = [m for m in b["metrics"] if m["name"] == "latency"]
            assert latency and len(latency[0]["samples"]) >= 5, (path.name, label, b["metrics"])
        assert len({json.dumps(b["params"], sort_keys=True) for b in benchmarks}) == 4, path.name


def test_compare_flags_the_slowdown_and_nothing_else(history: History, route: str) -> None:
    rows = _comparisons(history, route, history.slow - 1, history.slow)
    slowed = [r for r in rows if _is_slowed(r) and r["metric"] == "latency"]
    assert any(r["verdict"] == "regression" for r in slowed), brief(rows)
    # a +30% change is never "unchanged"; the noisier size may be too noisy to call
    assert all(r["verdict"] in ("regression", "inconclusive") for r in slowed), brief(rows)
    # only the slowed function's timings may be flagged, and only as regressions
    others = [
        r
        for r in flagged(rows)
        if not (_is_slowed(r) and _is_time(r) and r["verdict"] == "regression")
    ]
    assert not others, brief(others) + "\n\nall:\n" + brief(rows)


@pytest.mark.parametrize("pair", ["before-slowdown", "after-slowdown"])
def test_compare_of_readme_only_commits_flags_nothing(
    history: History, route: str, pair: str
) -> None:
    """Nothing changed but the README: no regression and no improvement on any metric,
    memory included. After the slowdown, the base's history spans it."""
    base, head = history.readme_pairs()[0 if pair == "before-slowdown" else 1]
    rows = _comparisons(history, route, base, head)
    assert not flagged(rows), brief(flagged(rows)) + "\n\nall:\n" + brief(rows)


def test_detect_alerts_at_the_slowdown_only(history: History, route: str) -> None:
    doc = parse_json(detect(history, route, clean_env(history.repo.parent / "home")))
    assert doc.get("format_version") == 1, doc
    alerts: list[dict[str, Any]] = doc["alerts"]
    slow_sha = history.shas[history.slow]
    found = [
        a
        for a in alerts
        if _is_slowed(a)
        and a["metric"] == "latency"
        and a["kind"] == "regression"
        and a["commit"] == slow_sha
    ]
    assert found, f"no alert on {SLOWED} latency at {slow_sha[:10]}:\n" + brief(alerts)
    wrong = [
        a
        for a in alerts
        if not (_is_slowed(a) and a["kind"] == "regression" and a["commit"] == slow_sha)
    ]
    commits = {sha: i for i, sha in enumerate(history.shas)}
    assert not wrong, f"slowdown at commit {history.slow} ({slow_sha[:10]}); other alerts:\n" + (
        brief({**a, "commit": f"{commits.get(a['commit'])} {a['commit'][:10]}"} for a in wrong)
    )
