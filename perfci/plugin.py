"""pytest plugin: options, the `perf` marker and fixture, and the hooks that write results.

A thin switchboard: measuring lives in `perfci.measure`, backends in `perfci.backends`.
Importing this module imports no ML framework (pytest loads it in every session).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from perfci.measure.profiles import DEFAULT_PROFILE, PROFILE_ARGS, PROFILES
from perfci.measure.session import Identity, SessionState
from perfci.params import ParamError, benchmark_params, plain_params

if TYPE_CHECKING:
    from perfci.measure.recorder import Perf

# rounds in turn with the other side of `perfci ab`, active only when it asks
pytest_plugins = ["perfci.measure.lockstep"]

STATE = pytest.StashKey[SessionState]()
NOT_MEASURED = "not measured"  # the reason's start for a benchmark test that timed nothing


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfci", "perfci performance measurement")
    group.addoption(
        "--perfci-json", metavar="PATH", help="write this session's perfci results file"
    )
    group.addoption(
        "--perfci-profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help="workload sizes and pytest-benchmark's rounds: quick (small, for any machine: "
        f"{' '.join(PROFILE_ARGS['quick'])}) or full ({' '.join(PROFILE_ARGS['full'])}); "
        f"benchmark options given explicitly win (default: {DEFAULT_PROFILE})",
    )
    group.addoption(
        "--perfci-warmup",
        type=_non_negative_int,
        default=2,
        help="untimed calls after the cold call, before the timed rounds (default: 2)",
    )
    group.addoption(
        "--perfci-machine", metavar="NAME", help="label this machine (default: hostname)"
    )
    group.addoption(
        "--perfci-device",
        metavar="BACKEND=DEVICE",
        action="append",
        type=_device_choice,
        default=[],
        help="device for a backend where a benchmark leaves it automatic, e.g. torch=cpu, "
        "mlx=gpu, coreml=CPU_AND_NE (repeatable)",
    )
    from perfci.explain.capture import add_options

    add_options(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """A session that perfci records (--perfci-json) or that names a profile gets the
    profile's pytest-benchmark settings (`PROFILE_ARGS`), put before every other
    argument (addopts' and the command line's), so that one given explicitly still
    wins. Other sessions keep pytest-benchmark's own defaults."""
    namespace = early_config.known_args_namespace
    named = any(a == "--perfci-profile" or a.startswith("--perfci-profile=") for a in args)
    if not (named or getattr(namespace, "perfci_json", None)):
        return
    profile = str(getattr(namespace, "perfci_profile", DEFAULT_PROFILE))
    if profile in PROFILE_ARGS and hasattr(namespace, "benchmark_min_rounds"):
        args[:] = [*PROFILE_ARGS[profile], *args]


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _device_choice(text: str) -> tuple[str, str]:
    from perfci.backends import NAMES

    backend, _, device = text.partition("=")
    if backend not in NAMES or not device:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not BACKEND=DEVICE with BACKEND one of {', '.join(NAMES)}"
        )
    return backend, device


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "perf(**params): parameters that identify a perfci benchmark (plain values)"
    )
    config.addinivalue_line(
        "markers",
        "perf_sizes(argname, quick=[...], full=[...]): parametrize argname by the profile",
    )
    json_path = config.getoption("perfci_json")
    state = SessionState(
        json_path=Path(json_path) if json_path else None,
        profile=config.getoption("perfci_profile"),
        warmup=config.getoption("perfci_warmup"),
        machine_name=config.getoption("perfci_machine"),
        devices=dict(config.getoption("perfci_device")),
        rootdir=config.rootpath,
    )
    if config.getoption("numprocesses", None) or hasattr(config, "workerinput"):
        # Parallel workers share cores and memory: their timings mean nothing.
        state.enabled = False
        config.issue_config_time_warning(
            pytest.PytestConfigWarning("perfci: measurement is off under pytest-xdist (-n)"),
            stacklevel=2,
        )
    config.stash[STATE] = state
    config.pluginmanager.register(_SessionHooks(state), "perfci-session")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    profile = metafunc.config.getoption("perfci_profile")
    for marker in metafunc.definition.iter_markers("perf_sizes"):
        unknown = set(marker.kwargs) - set(PROFILES)
        if len(marker.args) != 1 or unknown or set(marker.kwargs) != set(PROFILES):
            raise pytest.UsageError(
                f'{metafunc.definition.nodeid}: use @pytest.mark.perf_sizes("argname", '
                "quick=[...], full=[...])"
            )
        metafunc.parametrize(marker.args[0], marker.kwargs[profile])


def _plain(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    try:
        return plain_params(params)
    except ParamError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None


def _identity(item: pytest.Item, plain: bool = False) -> Identity:
    """How `item` is named in the store. `plain`: a test of pytest-benchmark's own
    `benchmark` fixture, named as the importer names it from pytest-benchmark's JSON
    (its parameters are final once the test has filled `extra_info`)."""
    params: dict[str, Any] = {}
    callspec = getattr(item, "callspec", None)
    if plain:
        marker = item.get_closest_marker("benchmark")
        group = marker.kwargs.get("group") if marker is not None else None
        params = benchmark_params(
            callspec.params if callspec else None, callspec.id if callspec else None, group, {}
        )
    else:
        for marker in reversed(list(item.iter_markers("perf"))):
            if marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.perf takes keyword params only"
                )
            params.update(_plain(marker.kwargs, item.nodeid))
        if callspec is not None:
            params.update(_plain(callspec.params, item.nodeid))
    path = item.path
    suite = (
        path.relative_to(item.config.rootpath)
        if path.is_relative_to(item.config.rootpath)
        else path
    )
    cls = getattr(item, "cls", None)
    name = getattr(item, "originalname", item.name)
    return Identity(
        suite=suite.with_suffix("").as_posix(),
        name=f"{cls.__name__}.{name}" if cls is not None else name,
        params=params,
    )


@pytest.fixture
def perf(request: pytest.FixtureRequest, benchmark: Any) -> Perf:
    """Measure one workload: `perf.use("mlx")`, then `perf(fn, items=..., unit=...)`."""
    from perfci.measure.recorder import Perf

    state = request.config.stash[STATE]
    nodeid = request.node.nodeid
    identity = state.identities.get(nodeid) or _identity(request.node)
    state.identities[nodeid] = identity

    def on_record(recorded: Any) -> None:
        if state.enabled:
            state.record(nodeid, recorded)

    return Perf(benchmark, identity.params, state.profile, state.warmup, on_record, state.devices)


class _SessionHooks:
    """Hooks bound to one session's state (registered in pytest_configure)."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            fixtures = getattr(item, "fixturenames", ())
            if "perf" in fixtures:
                self.state.identities[item.nodeid] = _identity(item)
            elif "benchmark" in fixtures:
                self.state.identities[item.nodeid] = _identity(item, plain=True)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        funcargs = getattr(item, "funcargs", {})
        fixture = funcargs.get("benchmark")
        if fixture is None or not self.state.enabled or item.nodeid not in self.state.identities:
            return (yield)
        if item.config.getoption("perfci_explain"):  # profiled, not timed: no record
            from perfci.explain.capture import attach

            attach(item, fixture, self.state.identities[item.nodeid])
            return (yield)
        from perfci.measure import plain

        if "perf" not in funcargs:
            plain.attach(fixture)
        result = yield  # raises when the test failed: pytest reports it, no record
        if "perf" not in funcargs:
            callspec = getattr(item, "callspec", None)
            recorded = plain.recorded(fixture, callspec.params if callspec else {})
            if recorded is not None:
                self.state.record(item.nodeid, recorded)
        if item.nodeid not in self.state.results:
            reason = plain.why_not_recorded(fixture, "perf" if "perf" in funcargs else "benchmark")
            self.state.note_outcome(item.nodeid, "skipped", f"{NOT_MEASURED}: {reason}")
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Any:
        """A `perf` test that failed before timing (its check, its first call) is one
        failure: pytest-benchmark would add, at teardown, that its fixture went unused.
        Outermost wrapper, so this runs after pytest-benchmark's own report hook has set
        the fixture's `skipped` flag, the one its teardown consults."""
        report = yield
        funcargs = getattr(item, "funcargs", {})
        fixture = funcargs.get("benchmark")
        if report.when == "call" and report.failed and "perf" in funcargs and fixture is not None:
            fixture.skipped = True
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        reasons: dict[str, int] = {}
        for outcome in self.state.outcomes.values():
            if outcome.reason.startswith(NOT_MEASURED):
                reasons[outcome.reason] = reasons.get(outcome.reason, 0) + 1
        for reason, count in sorted(reasons.items()):
            terminalreporter.write_line(
                f"perfci: {count} benchmark test(s) recorded nothing, {reason}", yellow=True
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.state.identities:
            return
        if report.skipped:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.state.note_outcome(report.nodeid, "skipped", reason.removeprefix("Skipped: "))
        elif report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else report.longreprtext
            self.state.note_outcome(
                report.nodeid, "error", f"{report.when}: {message.splitlines()[0]}"
            )

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        state = self.state
        if state.json_path is None or not state.enabled:
            return
        if exitstatus in (
            pytest.ExitCode.INTERRUPTED,
            pytest.ExitCode.INTERNAL_ERROR,
            pytest.ExitCode.USAGE_ERROR,
        ):
            return  # nothing trustworthy was measured; write no results file
        exit_ok = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        result = state.run_result(exit_ok)
        state.json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.json_path.with_name(state.json_path.name + ".tmp")
        tmp.write_text(result.to_json())
        tmp.replace(state.json_path)  # never a half-written results file
