"""One pytest session's measurements, gathered into a perfci results file.

pytest imports this in every session through the plugin, so everything beyond the
standard library's lightest modules is imported where it is first needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from perfci.measure.recorder import Recorded
    from perfci.results import Outcome, RunResult


@dataclass
class Identity:
    """How a test is known in the store: its suite, name and parameters."""

    suite: str
    name: str
    params: dict[str, Any]


@dataclass
class SessionState:
    """Everything the plugin keeps for one session (lives in `config.stash`)."""

    json_path: Path | None
    profile: str
    warmup: int
    machine_name: str | None
    rootdir: Path
    devices: dict[str, str] = field(default_factory=dict)  # --perfci-device overrides
    enabled: bool = True
    started_at: float = field(default_factory=time.time)
    identities: dict[str, Identity] = field(default_factory=dict)
    # By node id; metrics a test adds after its timed call (perf.metric) join its record.
    results: dict[str, Recorded] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # by node id; the first kept
    # Which node holds each (suite, name, params): a results file names a benchmark once.
    _owners: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def record(self, nodeid: str, recorded: Recorded) -> None:
        from perfci.measure.recorder import PerfUsageError
        from perfci.results import canonical_params

        identity = self.identities[nodeid]
        identity.params = recorded.params
        if self._claim(nodeid, identity) is None:
            raise PerfUsageError(
                f"{nodeid} measures {identity.name} {canonical_params(identity.params)} "
                "a second time: give it distinct params"
            )
        self.results[nodeid] = recorded

    def note_outcome(self, nodeid: str, status: Literal["skipped", "error"], reason: str) -> None:
        identity = self.identities.get(nodeid)
        if identity is None or nodeid in self.outcomes:
            return
        from perfci.results import Outcome

        # A test that fails after measuring (in its own asserts or teardown) is an error:
        # its numbers are not to be trusted.
        self.results.pop(nodeid, None)
        # A test whose identity another test holds is reported by pytest and fails the run,
        # but is not written twice under one name.
        if self._claim(nodeid, identity) is not None:
            self.outcomes[nodeid] = Outcome(
                identity.suite, identity.name, identity.params, status, reason
            )

    def _claim(self, nodeid: str, identity: Identity) -> tuple[str, str, str] | None:
        """Reserve the identity's key for `nodeid`; None when another node holds it."""
        from perfci.results import canonical_params

        key = (identity.suite, identity.name, canonical_params(identity.params))
        if self._owners.setdefault(key, nodeid) != nodeid:
            return None
        return key

    def run_result(self, exit_ok: bool) -> RunResult:
        import uuid

        from perfci.context import current_commit, run_context
        from perfci.environment import current_conditions, current_environment, current_machine
        from perfci.results import BenchmarkResult, RunInfo, RunResult

        context = run_context()
        conditions = current_conditions()
        failed = not exit_ok or any(o.status == "error" for o in self.outcomes.values())
        machine = current_machine(self.machine_name)
        run = RunInfo(
            run_id=str(uuid.uuid4()),
            started_at=_iso(self.started_at),
            finished_at=_iso(time.time()),
            status="failed" if failed else "passed",
            profile=self.profile,
            trigger=context.trigger,
            pr_number=context.pr_number,
            ci_url=context.ci_url,
            host=machine.name,
            thermal_state=conditions.thermal_state,
            low_power_mode=conditions.low_power_mode,
            load_average=conditions.load_average,
        )
        return RunResult(
            run=run,
            commit=current_commit(self.rootdir, context),
            machine=machine.as_dict(),
            environment=current_environment().as_dict(),
            benchmarks=tuple(
                BenchmarkResult(
                    self.identities[nodeid].suite,
                    self.identities[nodeid].name,
                    recorded.params,
                    tuple(recorded.metrics),
                )
                for nodeid, recorded in self.results.items()
            ),
            outcomes=tuple(self.outcomes.values()),
        )


def _iso(moment: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
