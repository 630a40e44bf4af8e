"""Why a benchmark changed: profile one benchmark test on base and head and diff the
profiles per operator, graph, operation or Python function (`perfci explain`).

The plugin's side (`perfci.explain.capture`) imports no ML framework and none of this
package's heavier modules; the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Change": "perfci.explain.diff",
    "Explanation": "perfci.explain.diff",
    "SectionDiff": "perfci.explain.diff",
    "diff_profiles": "perfci.explain.diff",
    "Profile": "perfci.explain.profile",
    "read_profile": "perfci.explain.profile",
    "explain_markdown": "perfci.explain.render",
    "explain_text": "perfci.explain.render",
    "explanation_json": "perfci.explain.render",
    "Request": "perfci.explain.run",
    "Report": "perfci.explain.run",
    "ExplainError": "perfci.explain.run",
    "explain_sides": "perfci.explain.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'perfci.explain' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
