"""`perfci doctor`: this machine's measurement pitfalls, one line each with the fix."""

from __future__ import annotations

import argparse
from typing import Any

from perfci.doctor import gather, run_checks


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "doctor",
        help="check this machine for the known pitfalls (Rosetta, MPS, MLX device, Core ML, "
        "thermal state, low-power mode, MPS fallback, load)",
        description="Exit status 1 when a check fails, 0 otherwise.",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also time how steady this machine's speed is (1 s of a fixed workload)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    checks = run_checks(gather(probe_seconds=1.0 if args.probe else 0.0))
    for check in checks:
        print(check.line())
    return 1 if any(c.status == "fail" for c in checks) else 0
