"""`perfci summary`: the comparison's Markdown on the job's summary page."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from perfci.cli.common import UsageError
from perfci.github.comment import SUMMARY_LIMIT, trim


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "summary",
        help="append a Markdown report to the GitHub Actions job summary",
        description="Appends FILE (e.g. `perfci compare --format markdown` output) to "
        "$GITHUB_STEP_SUMMARY, trimmed so the step's summary stays under GitHub's 1 MiB.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--report-url", metavar="URL", help="where the full report is")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        raise UsageError("$GITHUB_STEP_SUMMARY is not set (not inside a GitHub Actions step?)")
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.file}: {exc}") from None
    path = Path(target)
    used = path.stat().st_size if path.is_file() else 0
    budget = SUMMARY_LIMIT - used - 1
    if budget < 200:
        raise UsageError(f"the step summary {path} is already at GitHub's 1 MiB limit")
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(trim(text.rstrip("\n") + "\n", budget, args.report_url, as_bytes=True))
    except OSError as exc:
        raise UsageError(f"cannot write the step summary {path}: {exc.strerror or exc}") from None
    return 0
