"""Machine-readable outputs (ARCHITECTURE.md section 3), each with its format_version."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from perfci.compare import Baseline, Comparison

FORMAT_VERSION = 1


def comparison_json(baseline: Baseline, comparisons: Sequence[Comparison]) -> str:
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "baseline": {
            "runs": [r.id for r in baseline.runs],
            "reason": baseline.reason,
            "environment_differences": list(baseline.differences),
            "condition_differences": list(baseline.conditions),
        },
        "comparisons": [{**asdict(c), "ci": list(c.ci) if c.ci else None} for c in comparisons],
    }
    return json.dumps(doc, indent=1, allow_nan=False)
