"""A bisection said: as text for a person (its last line the answer) and as JSON."""

from __future__ import annotations

import json
from typing import Any

from perfci.bisect.history import CommitRef
from perfci.bisect.search import Bisection, Step, steps_needed
from perfci.bisect.step import Selection

FORMAT_VERSION = 1
_SAID = {"bad": "bad", "good": "good", "skip": "skipped", "undecided": "undecided"}


def _between(found: Bisection) -> int:
    """Commits after the narrowed good end, up to the narrowed bad end."""
    chain = [c.sha for c in found.range.commits]
    low = chain.index(found.good.sha) if found.good.sha in chain else -1
    return chain.index(found.bad.sha) - low


def text_report(found: Bisection, selection: Selection, elapsed_s: float) -> str:
    commits = found.range.commits
    lines = [
        f"bisected {found.range.good.sha[:12]}..{found.range.bad.sha[:12]} ({len(commits)} "
        f"commit(s)) on {selection.metric} ({selection.kind} sought): "
        f"{len(found.measured)} step(s) measured, {len(found.skipped)} commit(s) skipped, "
        f"{elapsed_s:.0f} s"
    ]
    for number, step in enumerate(found.tried, start=1):
        r = step.result
        rounds = f", {r.rounds} round(s), {r.elapsed_s:.0f} s" if r.rounds else ""
        lines.append(f"  {number}. {step.commit.sha[:12]} {_SAID[r.kind]}: {r.reason}{rounds}")
    if found.first_bad is not None:
        lines.append(f"first bad commit: {found.first_bad.sha} {found.first_bad.subject}")
    else:
        lines.append(
            f"not found: the first bad commit lies in {found.good.sha[:12]}..{found.bad.sha[:12]}"
            f" ({_between(found)} commit(s)): {found.reason}"
        )
    return "\n".join(lines)


def _commit(c: CommitRef | None) -> dict[str, str] | None:
    return None if c is None else {"sha": c.sha, "subject": c.subject}


def _step(s: Step) -> dict[str, Any]:
    r = s.result
    return {
        "commit": s.commit.sha,
        "subject": s.commit.subject,
        "result": r.kind,
        "reason": r.reason,
        "ratio": None if r.ratio is None else round(r.ratio, 6),
        "rounds": r.rounds,
        "elapsed_s": round(r.elapsed_s, 3),
    }


def json_report(found: Bisection, selection: Selection, elapsed_s: float, alert: int | None) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "alert": alert,
        "good": _commit(found.range.good),
        "bad": _commit(found.range.bad),
        "commits": len(found.range.commits),
        "max_steps": steps_needed(len(found.range.commits)),
        "metric": selection.metric,
        "kind": selection.kind,
        "pytest_args": list(selection.pytest_args),
        "min_effect": selection.min_effect,
        "steps": [_step(s) for s in found.tried],
        "first_bad": _commit(found.first_bad),
        "range": {"good": found.good.sha, "bad": found.bad.sha, "commits": _between(found)},
        "reason": found.reason or None,
        "elapsed_s": round(elapsed_s, 3),
    }
    return json.dumps(doc, indent=2)
