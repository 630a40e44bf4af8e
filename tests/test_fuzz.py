"""Property-based fuzzing of the command line through its entry point (`perfci.cli.main`,
in this process): mutated results files, configs, CSV series and argument values. Every
run ends with exit 0 or 2, never a traceback, and an ingest that is refused leaves the
store exactly as it was. Examples are derandomised, so CI sees the same ones each time;
the whole module takes well under a minute."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hostile import DELETE, Outcome, cli, results_doc, store_snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that have broken a reader before, and their neighbours.
HOSTILE_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "a\0b",
        "\ud800",
        "x\udcff",
        "b" * 256,
        "n" * 513,
        "é" * 300,
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59Z",
        "2026-11-01T10:00:00Z",
        "not a time",
        "passed",
        "pull_request",
        "lower",
        "NaN",
        "@octocat #1 user@host.com",
        "<script>x</script>",
        "\n",
        "²",
    ]
)
HOSTILE_NUMBERS = st.sampled_from(
    [
        0,
        -1,
        1,
        2**31,
        2**63,
        2**63 + 1,
        -(2**63) - 1,
        10**400,
        0.0,
        -0.0,
        5e-324,
        2.2e-308,
        1e-101,
        1e101,
        1e308,
        float("nan"),
        float("inf"),
        float("-inf"),
        0.5,
    ]
)
LEAVES = st.one_of(
    HOSTILE_STRINGS,
    HOSTILE_NUMBERS,
    st.none(),
    st.booleans(),
    st.text(max_size=20),
    st.integers(),
    st.floats(),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES = st.one_of(
    LEAVES,
    st.lists(LEAVES, max_size=4),
    st.dictionaries(st.text(max_size=8), LEAVES, max_size=3),
    st.sampled_from([20, 200, 900]).map(_nested),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document, containers and leaves."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*prefix, i))
    return found


TEMPLATE = results_doc("template")
SEEDS = itertools.count()
PATHS = _paths(TEMPLATE)


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """The template results file with one to three fields replaced, deleted or added."""
    doc = copy.deepcopy(TEMPLATE)
    doc["run"]["run_id"] = f"fuzz-{draw(st.integers(0, 10**9))}"
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        target: Any = doc
        try:
            for key in path[:-1]:
                target = target[key]
            if draw(st.booleans()) and isinstance(target, dict):
                target[draw(st.sampled_from([path[-1], "extra"]))] = DELETE
            target[path[-1]] = draw(HOSTILE_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return _without_deleted(doc)


def _without_deleted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_deleted(v) for k, v in value.items() if v is not DELETE}
    if isinstance(value, list):
        return [_without_deleted(v) for v in value]
    return value


def _dump(doc: Any) -> str:
    """JSON as any writer might spell it: NaN and Infinity included, lone surrogates as
    escapes (json.dumps writes them as \\ud800)."""
    return json.dumps(doc)


def assert_clean(outcome: Outcome) -> None:
    assert outcome.code in (0, 2), outcome
    assert "Traceback" not in outcome.err, outcome
    if outcome.code == 2:
        assert outcome.err.count("\n") == 1 and outcome.err.startswith("perfci"), outcome


@pytest.fixture
def seeded(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(results_doc("seed")))
    assert cli("ingest", str(seed), "--db", store_url).code == 0
    return store_url


@FUZZ
@given(doc=mutated_documents())
def test_ingest_of_a_mutated_results_file_stores_it_or_refuses_it_whole(
    seeded: str, tmp_path: Path, doc: dict[str, Any]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_doc(f"good-{next(SEEDS)}")))
    bad = tmp_path / "mutated.json"
    bad.write_text(_dump(doc))
    before = store_snapshot(seeded)
    outcome = cli("ingest", str(good), str(bad), "--db", seeded)
    assert_clean(outcome)
    if outcome.code == 2:
        assert store_snapshot(seeded) == before  # nothing half-written, not even `good`


@FUZZ
@given(doc=mutated_documents())
def test_compare_and_keep_of_a_mutated_file_end_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "base.json"
    base.write_text(json.dumps(results_doc("base")))
    head = tmp_path / "head.json"
    head.write_text(_dump(doc))
    for fmt in ("text", "markdown", "json"):
        assert_clean(cli("compare", str(base), str(head), "--format", fmt))


TOML_VALUES = st.one_of(
    st.sampled_from(
        ["0.03", "0", "1", "-0.5", "1e400", "nan", "inf", "9" * 400, "0." + "0" * 400 + "1"]
    ),
    st.sampled_from(['"x"', '"\\u0000"', '""', "true", "[]", "{}", '"' + "g" * 5000 + '"']),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
    st.text(max_size=10).map(json.dumps),  # a TOML basic string or a decode error
)


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(f"min_effect = {draw(TOML_VALUES)}")
    for table, keys in (
        ("benchmark", ["match", "min_effect", "other"]),
        ("acknowledge", ["benchmark", "metric", "commit", "reason", "other"]),
    ):
        for _ in range(draw(st.integers(0, 2))):
            lines.append(f"[[{table}]]")
            for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=4)):
                lines.append(f"{key} = {draw(TOML_VALUES)}")
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=30)))  # anything at all
    return "\n".join(lines) + "\n"


@FUZZ
@given(config=configs(), pyproject=st.booleans())
def test_any_config_is_used_or_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, pyproject: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    for stale in ("perfci.toml", "pyproject.toml"):
        (tmp_path / stale).unlink(missing_ok=True)
    if pyproject:
        (tmp_path / "pyproject.toml").write_text("[tool.perfci]\n" + config)
    else:
        (tmp_path / "perfci.toml").write_text(config)
    files = []
    for name in ("base", "head"):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(results_doc(name)))
    assert_clean(cli("compare", *map(str, files)))


def _is_argument(value: str) -> bool:
    """What a process can be given: no NUL (it ends a C string), and no surrogate but
    those Python makes of undecodable bytes (surrogateescape)."""
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return "\0" not in value


FLAG_VALUES = st.one_of(
    HOSTILE_STRINGS,
    st.text(max_size=30),
    st.sampled_from(["12", "-3", "0", "١٢", "abc", "HEAD", "main", "0" * 41, "f" * 40]),
).filter(_is_argument)


@st.composite
def command_lines(draw: st.DrawFn, db: str, results: str, series: str) -> list[str]:
    value = draw(FLAG_VALUES)
    return draw(
        st.sampled_from(
            [
                ["ingest", results, "--db", db, "--branch", value],
                ["ingest", results, "--db", db, "--machine", value],
                ["ingest", results, "--db", db, "--commit", value],
                ["ingest", results, "--db", db, "--parent", value],
                ["runs", "--db", db, "--limit", value],
                ["runs", "--db", db, "--show", value],
                ["detect", "--db", db, "--branch", value],
                ["detect", series, "--direction", value],
                ["compare", "--db", db, "--base", value, "--head", value],
                ["compare", results, results, "--min-effect", value],
                ["context", "--pr", value],
                ["context", "--repo", value, "--run-url", value],
                ["context", "--base", value, "--merge-base", value, "--format", "json"],
                ["db", "current", "--db", value],
                ["runs", "--db", value],
            ]
        )
    )


@FUZZ
@given(data=st.data())
def test_any_argument_value_ends_in_0_or_2(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.delenv("PERFCI_DB", raising=False)
    results = tmp_path / "r.json"
    results.write_text(json.dumps(results_doc("args")))
    series = tmp_path / "s.csv"
    series.write_text("value\n" + "1\n" * 20)
    argv = data.draw(command_lines(seeded, str(results), str(series)))
    before = store_snapshot(seeded)
    outcome = cli(*argv)
    assert_clean(outcome)
    if outcome.code == 2 and argv[0] == "ingest":
        assert store_snapshot(seeded) == before


CSV_CELLS = st.one_of(
    st.sampled_from(["1", "1.5", "0", "-1", "nan", "inf", "5e-324", "1e308", "", "x", '"']),
    st.floats().map(repr),
    st.text(max_size=5),
)


@FUZZ
@given(
    header=st.sampled_from(["value", "commit,value", "value,commit", "val", ""]),
    rows=st.lists(st.tuples(CSV_CELLS, CSV_CELLS), max_size=40),
    fmt=st.sampled_from(["text", "json"]),
)
def test_detect_on_any_csv_ends_in_0_or_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: str,
    rows: list[tuple[str, str]],
    fmt: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    series = tmp_path / "s.csv"
    body = "".join(f"{a},{b}\n" if "," in header else f"{a}\n" for a, b in rows)
    series.write_text(f"{header}\n{body}", encoding="utf-8", errors="surrogatepass")
    assert_clean(cli("detect", str(series), "--format", fmt))


PAYLOAD_VALUES = st.one_of(HOSTILE_VALUES, st.just({"sha": "a" * 40}), st.just({"sha": 12}))


@FUZZ
@given(
    pull=st.dictionaries(
        st.sampled_from(["number", "base", "head"]), PAYLOAD_VALUES, min_size=1, max_size=3
    )
)
def test_any_event_payload_ends_in_0_or_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pull: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": pull}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert_clean(cli("context"))
