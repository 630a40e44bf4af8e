"""One pytest session's measurements, gathered into a perfci results file.

pytest imports this in every session through the plugin, so everything beyond the
standard library's lightest modules is imported where it is first needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perfci.measure.recorder import Recorded
    from perfci.results import BenchmarkResult, Outcome, RunResult

PROFILES = ("quick", "full")


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
    enabled: bool = True
    started_at: float = field(default_factory=time.time)
    identities: dict[str, Identity] = field(default_factory=dict)
    results: dict[str, BenchmarkResult] = field(default_factory=dict)  # by node id
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # by node id; first wins
    _keys: set[tuple[str, str, str]] = field(default_factory=set)

    def record(self, nodeid: str, recorded: Recorded) -> None:
        from perfci.measure.recorder import PerfUsageError
        from perfci.results import BenchmarkResult, canonical_params

        identity = self.identities[nodeid]
        identity.params = recorded.params
        key = (identity.suite, identity.name, canonical_params(recorded.params))
        if key in self._keys:
            raise PerfUsageError(
                f"{nodeid} measures {key[1]} {key[2]} a second time: give it distinct params"
            )
        self._keys.add(key)
        self.results[nodeid] = BenchmarkResult(
            identity.suite, identity.name, recorded.params, tuple(recorded.metrics)
        )

    def note_outcome(self, nodeid: str, status: str, reason: str) -> None:
        identity = self.identities.get(nodeid)
        if identity is None or status not in ("skipped", "error"):
            return
        from perfci.results import Outcome, canonical_params

        # A test that fails after measuring (in its own asserts or teardown) is an error:
        # its numbers are not to be trusted.
        dropped = self.results.pop(nodeid, None)
        if dropped is not None:
            self._keys.discard((dropped.suite, dropped.name, canonical_params(dropped.params)))
        self.outcomes.setdefault(
            nodeid,
            Outcome(identity.suite, identity.name, identity.params, status, reason),  # type: ignore[arg-type]
        )

    def run_result(self, exit_ok: bool) -> RunResult:
        import uuid

        from perfci.context import current_commit, run_context
        from perfci.environment import current_conditions, current_environment, current_machine
        from perfci.results import RunInfo, RunResult

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
            benchmarks=tuple(self.results.values()),
            outcomes=tuple(self.outcomes.values()),
        )


def _iso(moment: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds")
