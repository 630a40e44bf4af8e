"""The pull-request comment body: changed benchmarks first, the rest folded.

Benchmark names, parameters and commit subjects come from the repository under test, so
every piece of text from them is escaped: no Markdown or HTML from a name can render,
link, ping someone, reference an issue or break the table.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from perfci.compare import Baseline, Comparison
from perfci.report.text import ORDER, params_text, process_wide_note, unmeasured_note

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")  # `$`: GitHub's math
# GitHub links `@name` (a mention), `#123` and `GH-123` (issues) and `name@host.tld`
# (e-mail) in the rendered text, where an entity such as &#64; is an `@` again. A word
# joiner (U+2060, invisible, no break) right after the `@`, `#` or `GH-` leaves the
# text as it reads while no longer matching any of them.
_LINKING = re.compile(r"@|#(?=\d)|\bGH-(?=\d)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Plain text safe inside Markdown and a table cell: `<`, `>` and `&` HTML-escaped,
    Markdown punctuation backslash-escaped, line breaks flattened, `:` an entity (no
    URL autolink), and mentions, issue references and e-mail addresses unlinked."""
    flat = " ".join(text.split())
    unlinked = _LINKING.sub(lambda m: m.group(0) + WORD_JOINER, flat)
    escaped = _SPECIAL.sub(r"\\\1", html.escape(unlinked, quote=False))
    return escaped.replace(":", "&#58;")


def _ratio(c: Comparison) -> str:
    if c.ratio is None:
        return ""
    change = (c.ratio - 1) * 100
    return f"{c.ratio:.3f} ({change:+.1f}%)"


def _interval(c: Comparison) -> str:
    return f"[{c.ci[0]:.3f}, {c.ci[1]:.3f}]" if c.ci else ""


def _rows(comparisons: Sequence[Comparison]) -> list[str]:
    lines = [
        "| verdict | benchmark | params | metric | head/base | interval | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        cells = [
            f"**{c.verdict}**" if c.verdict in ("regression", "error") else c.verdict,
            escape(c.benchmark),
            escape(params_text(c.params)),
            escape(c.metric),
            _ratio(c),
            _interval(c),
            escape(c.note or ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def comparison_markdown(
    baseline: Baseline, comparisons: Sequence[Comparison], title: str = "perfci"
) -> str:
    """The comment: a summary line, a table of changed metrics (regressions, errors and
    improvements, then inconclusive, new and missing), the unchanged ones and those
    without a verdict for want of runs folded in <details> blocks, and any environment or
    run-condition differences stated."""
    lines = [f"## {escape(title)}", ""]
    if baseline.run is None:
        lines.append(f"No comparison: {escape(baseline.reason)}.")
        for diff in baseline.differences:
            lines.append(f"- environment: {escape(diff)}")
        return "\n".join(lines) + "\n"
    counts: dict[str, int] = {}
    for c in comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda i: ORDER[i[0]]))
    lines.append(f"Compared with {escape(baseline.reason)}: {summary or 'nothing to compare'}.")
    lines.append("")
    lines.append(
        "Intervals include run-to-run noise and are adjusted for the "
        f"{len(comparisons)} metrics compared (false-coverage rate 5%)."
    )
    for diff in baseline.differences:
        lines.append(f"- environment differs: {escape(diff)}")
    for diff in baseline.conditions:
        lines.append(f"- run conditions differ: {escape(diff)} (timings may move for that reason)")
    for note in (unmeasured_note(comparisons), process_wide_note(comparisons)):
        if note:
            lines += ["", escape(note)]
    ordered = sorted(comparisons, key=lambda c: (ORDER[c.verdict], c.benchmark, c.metric))
    changed = [c for c in ordered if c.verdict != "unchanged" and not c.unmeasured and c.gates]
    if changed:
        lines += ["", *_rows(changed)]
    for label, group in (
        ("unchanged", [c for c in ordered if c.verdict == "unchanged"]),
        ("without a verdict yet", [c for c in ordered if c.unmeasured]),
        ("process-wide, never judged", [c for c in ordered if not c.gates and not c.unmeasured]),
    ):
        if group:
            lines += ["", f"<details><summary>{len(group)} {label}</summary>", "", *_rows(group)]
            lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
