"""Triage configuration: perfci.toml or [tool.perfci], validated; per-benchmark minimum
effects and acknowledgements in `perfci compare` and in stored alerts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_alerts import _chain, _runs
from test_cli import perfci

from perfci.alerts import update_alerts
from perfci.config import ConfigError, load_config
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from tests import factories

GEMM = "suites/mlx/test_gemm::test_gemm"


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source is None and config.min_effect_for(GEMM, 0.03) == 0.03


def test_perfci_toml_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.perfci]\nmin_effect = 0.04\n'
        '[[tool.perfci.benchmark]]\nmatch = "suites/mlx/*"\nmin_effect = 0.1\n'
    )
    config = load_config(tmp_path)
    assert config.min_effect_for(GEMM, 0.03) == 0.1
    assert config.min_effect_for("suites/torch::test_x", 0.03) == 0.04
    (tmp_path / "perfci.toml").write_text("min_effect = 0.05\n")  # perfci.toml wins
    assert load_config(tmp_path).min_effect_for(GEMM, 0.03) == 0.05


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_efect = 0.05\n", "perfci.toml: unknown key `min_efect`"),
        ('[[benchmark]]\nmatch = "a"\nmin_effect = 0.1\nthreshold = 2\n', "unknown key `thr"),
        ('[[acknowledge]]\nbenchmark = "a::b"\n', "`reason` must be a non-empty string"),
        ("min_effect = 3\n", "min_effect must be between 0 and 1"),
        ("min_effect = [\n", "perfci.toml: cannot read"),
    ],
)
def test_bad_files_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "perfci.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(tmp_path)


def test_ab_setup_from_either_file(tmp_path: Path) -> None:
    assert load_config(tmp_path).ab_setup is None
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.perfci.ab]\nsetup = "make -C native"\n'
    )
    config = load_config(tmp_path)
    assert config.ab_setup == "make -C native"
    assert config.source == tmp_path / "pyproject.toml"
    (tmp_path / "perfci.toml").write_text('min_effect = 0.05\n[ab]\nsetup = "./build.sh"\n')
    config = load_config(tmp_path)  # perfci.toml wins, every key of it kept
    assert (config.ab_setup, config.min_effect) == ("./build.sh", 0.05)
    assert config.source == tmp_path / "perfci.toml"
    (tmp_path / "perfci.toml").write_text("[ab]\n")
    assert load_config(tmp_path).ab_setup is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[ab]\nsetup = "make"\nbuild = "x"\n', "perfci.toml: unknown key `build` in [ab] "),
        ("[ab]\nsetup = 3\n", "perfci.toml: [ab]: `setup` must be a non-empty string"),
        ('[ab]\nsetup = " "\n', "perfci.toml: [ab]: `setup` must be a non-empty string"),
        ('ab = "make"\n', "perfci.toml: `ab` must be a table"),
        ('[[ab]]\nsetup = "make"\n', "perfci.toml: `ab` must be a table"),
        ('[ab]\nsetup = "a\\u0000b"\n', "perfci.toml: [ab]: `setup`"),
    ],
)
def test_bad_ab_tables_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "perfci.toml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_config(tmp_path)
    assert "\n" not in str(caught.value)


def test_bad_ab_table_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "perfci.toml").write_text('[ab]\nsetup = "make"\nsetpu = "x"\n')
    base = factories.write(factories.run(), tmp_path / "base.json")
    head = factories.write(factories.run(), tmp_path / "head.json")
    result = perfci("compare", str(base), str(head), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "perfci: error: perfci.toml: unknown key `setpu` in [ab] (allowed: setup)"
    ]


def test_unknown_key_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "perfci.toml").write_text("[tool]\nx = 1\n")
    base = factories.write(factories.run(), tmp_path / "base.json")
    head = factories.write(factories.run(), tmp_path / "head.json")
    result = perfci("compare", str(base), str(head), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "perfci: error: perfci.toml: unknown key `tool` (allowed: ab, acknowledge, "
        "benchmark, min_effect)"
    ]


def _slower_files(tmp_path: Path, factor: float = 2.0) -> list[str]:
    """Four base runs (enough, with the head, to tell the run-to-run noise) and a head
    run `factor` times slower."""
    bases = [
        str(
            factories.write(
                factories.run(benchmarks=(factories.benchmark(seed=i),)), tmp_path / f"base{i}.json"
            )
        )
        for i in range(4)
    ]
    slow = factories.run(benchmarks=(factories.benchmark(latency=factor * 1e-3, seed=9),))
    return [*bases, str(factories.write(slow, tmp_path / "head.json"))]


def test_acknowledged_regression_does_not_fail(tmp_path: Path) -> None:
    files = _slower_files(tmp_path)
    args = ("compare", *files, "--format", "json", "--fail-on-regression")
    plain = perfci(*args, cwd=tmp_path)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    ack = f'[[acknowledge]]\nbenchmark = "{GEMM}"\nreason = "exact accumulation, twice the work"\n'
    (tmp_path / "perfci.toml").write_text(ack + 'metric = "latency"\n')
    partly = perfci(*args, cwd=tmp_path)  # cold_start regressed too, unacknowledged
    assert partly.returncode == 1, partly.stdout + partly.stderr
    by_metric = {c["metric"]: c for c in json.loads(partly.stdout)["comparisons"]}
    assert by_metric["latency"]["verdict"] == "regression"
    assert by_metric["latency"]["acknowledged"] == "exact accumulation, twice the work"
    assert by_metric["latency"]["note"].startswith("acknowledged: exact accumulation")
    assert by_metric["cold_start"]["verdict"] == "regression"
    assert by_metric["cold_start"]["acknowledged"] is None
    (tmp_path / "perfci.toml").write_text(ack)
    acked = perfci(*args, cwd=tmp_path)
    assert acked.returncode == 0, acked.stdout + acked.stderr
    text = perfci("compare", *files, cwd=tmp_path)
    assert "acknowledged: exact accumulation, twice the work" in text.stdout


def test_per_benchmark_minimum_effect_in_compare(tmp_path: Path) -> None:
    files = _slower_files(tmp_path, 1.85)

    def verdicts() -> dict[str, str]:
        result = perfci("compare", *files, "--format", "json", cwd=tmp_path)
        return {c["metric"]: c["verdict"] for c in json.loads(result.stdout)["comparisons"]}

    assert verdicts() == {"latency": "regression", "cold_start": "regression"}
    (tmp_path / "perfci.toml").write_text(
        '[[benchmark]]\nmatch = "suites/mlx/test_gemm::*"\nmin_effect = 0.9\n'
    )
    assert "regression" not in verdicts().values()


def test_acknowledged_alert(store: Store, tmp_path: Path) -> None:
    shas = _chain(40)
    ingest_runs(store, _runs({i: 1e-3 * (1.1 if i >= 25 else 1.0) for i in range(40)}, shas))
    (tmp_path / "perfci.toml").write_text(
        f'[[acknowledge]]\nbenchmark = "{GEMM}"\nmetric = "latency"\n'
        f'commit = "{shas[25][:10]}"\nreason = "bigger tiles"\n'
    )
    config = load_config(tmp_path)
    alerts = update_alerts(store, config=config)
    latency = [a for a in alerts if a.metric == "latency"]
    assert [(a.kind, a.status, a.reason) for a in latency] == [
        ("regression", "acknowledged", "bigger tiles")
    ]
    # the same change in another metric (cold start moves with it) is not acknowledged
    others = [a for a in alerts if a.metric != "latency"]
    assert [(a.metric, a.commit, a.status) for a in others] == [("cold_start", shas[25], "open")]
    other = load_config(tmp_path.parent)  # no file there: nothing acknowledged
    assert all(
        a.status == "open" for a in update_alerts(store, config=other) if a.metric != "latency"
    )
