"""The pull-request comment as people read it: the verdict in the first line (what a
notification preview shows), the regressions and improvements in a compact table, the
rest folded by why it has no change verdict.

Benchmark names and parameters come from the repository under test: they are written as
code spans, where GitHub renders no Markdown, HTML, mention, issue link or e-mail link,
and which read as themselves in the raw text. Other text from outside (acknowledgement
reasons, machine names, package versions) goes through `escape`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perfci.compare import MIN_RUNS, Baseline, Comparison, ResultsFile
from perfci.dashboard.naming import comparison_anchor
from perfci.report.markdown import code, escape
from perfci.store.trends import Trends
from perfci.verdicts import MetricKey, metric_key, percent_text, rank

SPARK = "▁▂▃▄▅▆▇█"
TABLE_ROWS = 100  # rows of a changes table before the rest are only counted


@dataclass(frozen=True)
class SameJob:
    """How a same-job A/B comparison measured: the order its processes ran in (A base,
    B head, two letters a round), the rounds each benchmark took, the seconds spent
    measuring, and why it stopped."""

    order: str
    rounds: tuple[int, ...]  # one count a benchmark
    seconds: float
    stopped: str


@dataclass(frozen=True)
class Why:
    """The collapsed "why" section of one regression (`perfci.explain.explain_markdown`),
    and the one line that stands for it where the comment's limit leaves no room."""

    markdown: str
    short: str


@dataclass(frozen=True)
class CommentExtras:
    """What the comment links to and draws beyond the comparison itself: the pull
    request's dashboard page, whose rows each change links to, main's recent run
    medians per benchmark metric, oldest first (`perfci.baseline.main_trends`), for
    a same-job A/B comparison, how it was measured, and the regressions' "why" sections
    with a line on what profiling them took (Markdown, made safe by whoever made it)."""

    page_url: str | None = None
    trends: Trends = field(default_factory=dict)
    same_job: SameJob | None = None
    whys: tuple[Why, ...] = ()
    why_line: str | None = None


ORDER_SHOWN = 48  # letters of the order written out before the rest is elided


def duration_text(seconds: float) -> str:
    """'42 s', '4 min 12 s', '1 h 5 min'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _spread(counts: Sequence[int]) -> str:
    """The rounds the benchmarks took: one number when they all took as many, else the
    range and the median."""
    if not counts:
        return "no benchmark was measured on both sides"
    low, high = min(counts), max(counts)
    if low == high:
        return f"each benchmark {_plural(low, 'round')}"
    ordered = sorted(counts)
    middle = len(ordered) // 2
    median = (ordered[middle] + ordered[~middle]) / 2
    return f"each benchmark {low} to {high} rounds (median {median:g})"


def same_job_line(job: SameJob) -> str:
    """Where the base came from in an A/B comparison: measured in this job, interleaved
    with the head, in which order, for how many rounds and how long."""
    groups = " ".join(job.order[i : i + 4] for i in range(0, min(len(job.order), ORDER_SHOWN), 4))
    shown = groups + (" …" if len(job.order) > ORDER_SHOWN else "")
    rounds = _plural(len(job.order) // 2, "round")
    return (
        f"Measured in this job: base and head interleaved, {rounds} in the order "
        f"{code(shown, in_table=False)} (A base, B head); {_spread(job.rounds)}; "
        f"{duration_text(job.seconds)} of measuring; stopped: {escape(job.stopped)}."
    )


def _key(c: Comparison) -> MetricKey:
    suite, _, name = c.benchmark.partition("::")
    return metric_key(suite, name, c.params, c.metric)


def _name(c: Comparison) -> str:
    return c.benchmark.partition("::")[2] or c.benchmark


def _severity(c: Comparison) -> float:
    return abs(math.log(c.ratio)) if c.ratio else 0.0


def _interval(c: Comparison) -> str:
    if c.ci is None:
        return ""
    return f"{percent_text(c.ci[0])} to {percent_text(c.ci[1])}"


def _bound(c: Comparison) -> float:
    """The largest change in either direction that the interval leaves open."""
    if c.ci is None:
        return math.inf
    return max(abs(c.ci[0] - 1), abs(c.ci[1] - 1))


def sparkline(values: Sequence[float]) -> str:
    """Eight levels between the lowest and highest value; flat when they are equal."""
    points = [v for v in values if math.isfinite(v)]
    if not points:
        return ""
    low, high = min(points), max(points)
    if high - low <= 1e-12 * max(abs(high), 1e-300):
        return SPARK[3] * len(points)
    top = len(SPARK) - 1
    return "".join(SPARK[round((v - low) / (high - low) * top)] for v in points)


def _params_split(rows: Sequence[Comparison]) -> tuple[list[str], dict[str, Any]]:
    """The parameter names whose values differ between `rows` (shown per row), and the
    ones every row shares (said once); one row shows all of its own."""
    names = sorted({k for c in rows for k in c.params})
    if len(rows) < 2:
        return names, {}
    shared = {
        k: rows[0].params[k]
        for k in names
        if all(k in c.params and c.params[k] == rows[0].params[k] for c in rows)
    }
    return [k for k in names if k not in shared], shared


def _params_cell(c: Comparison, shown: Sequence[str]) -> str:
    return code(", ".join(f"{k}={c.params[k]}" for k in shown if k in c.params))


def _benchmark_cell(c: Comparison, extras: CommentExtras) -> str:
    label = code(_name(c))
    if extras.page_url:
        return f"[{label}]({extras.page_url}#{comparison_anchor(c.benchmark, c.params, c.metric)})"
    return label


def _note(c: Comparison) -> str:
    """What a changes row says beside its figures: why a change is expected, or why a
    benchmark failed."""
    if c.acknowledged:
        return f"acknowledged: {c.acknowledged}"
    return (c.note or "") if c.verdict == "error" else ""


def _table(rows: Sequence[Comparison], extras: CommentExtras, with_trend: bool) -> list[str]:
    """A compact table: benchmark, the parameters that tell its rows apart, metric,
    change and interval, main's recent trend, and a note where a row has one."""
    shown, shared = _params_split(rows)
    trend = with_trend and any(extras.trends.get(_key(c)) for c in rows)
    notes = any(_note(c) for c in rows)
    headers = ["benchmark", *(["params"] if shown else []), "metric", "change", "interval"]
    headers += [*(["main, recent"] if trend else []), *(["note"] if notes else [])]
    lines = []
    if shared:
        same = ", ".join(f"{k}={v}" for k, v in shared.items())
        lines += [f"All rows: {code(same, in_table=False)}.", ""]
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for c in rows[:TABLE_ROWS]:
        cells = [_benchmark_cell(c, extras), *([_params_cell(c, shown)] if shown else [])]
        change = percent_text(c.ratio) if c.ratio is not None else ""
        cells += [code(c.metric), f"**{change}**" if c.verdict in ("regression",) else change]
        cells.append(_interval(c))
        if trend:
            cells.append(sparkline(extras.trends.get(_key(c), ())))
        if notes:
            cells.append(escape(_note(c)))
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > TABLE_ROWS:
        lines += ["", f"…and {len(rows) - TABLE_ROWS} more, listed on the dashboard page."]
    return lines


@dataclass(frozen=True)
class _Groups:
    regressions: list[Comparison]
    improvements: list[Comparison]
    errors: list[Comparison]
    unchanged: list[Comparison]
    noisy: list[Comparison]
    unmeasured: list[Comparison]
    new: list[Comparison]
    missing: list[Comparison]
    process_wide: list[Comparison]


def _groups(comparisons: Sequence[Comparison]) -> _Groups:
    ordered = sorted(comparisons, key=lambda c: (rank(c.verdict), -_severity(c), c.benchmark))
    judged = [c for c in ordered if c.gates]

    def having(verdict: str) -> list[Comparison]:
        return [c for c in judged if c.verdict == verdict and not c.unmeasured]

    return _Groups(
        regressions=having("regression"),
        improvements=having("improvement"),
        errors=having("error"),
        unchanged=having("unchanged"),
        noisy=having("inconclusive"),
        unmeasured=[c for c in judged if c.unmeasured],
        new=having("new"),
        missing=having("missing"),
        process_wide=[c for c in ordered if not c.gates],
    )


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def _worst(c: Comparison) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(c.params.items()))
    where = f" ({code(params, in_table=False)})" if params else ""
    change = percent_text(c.ratio) if c.ratio is not None else ""
    return f"{code(_name(c), in_table=False)}{where} {escape(c.metric)} {change}"


def _acknowledged(rows: Sequence[Comparison]) -> str:
    expected = sum(c.acknowledged is not None for c in rows)
    return f" ({expected} acknowledged)" if expected else ""


def headline(baseline: Baseline, comparisons: Sequence[Comparison], title: str) -> str:
    """One line that tells the outcome: what changed, led by the largest regression; or
    that nothing did and within what bound; or that nothing could be decided and why."""
    lead = escape(title)
    if baseline.run is None:
        return f"**{lead}: no comparison** — {escape(baseline.reason)}."
    g = _groups(comparisons)
    changed = [
        (g.regressions, "regression"),
        (g.errors, "failure"),
        (g.improvements, "improvement"),
    ]
    counts = [_plural(len(rows), word) + _acknowledged(rows) for rows, word in changed if rows]
    rest = [
        _plural(len(g.unchanged), "unchanged", "unchanged"),
        _plural(len(g.noisy), "inconclusive", "inconclusive"),
        _plural(len(g.unmeasured), "without a verdict yet", "without a verdict yet"),
        _plural(len(g.new), "new", "new"),
        _plural(len(g.missing), "missing", "missing"),
    ]
    tail = ", ".join(s for s in rest if not s.startswith("0 "))
    if counts:
        first = g.regressions or g.improvements
        named = f" — {_worst(first[0])}" if first else f" — {code(_name(g.errors[0]), False)}"
        return f"**{lead}: {', '.join(counts)}**{named}" + (f"; also {tail}" if tail else "")
    if g.unchanged and not (g.noisy or g.unmeasured or g.missing):
        bound = max(_bound(c) for c in g.unchanged)
        return (
            f"**{lead}: no change** — {_plural(len(g.unchanged), 'metric')} unchanged, each "
            f"within ±{bound:.1%}" + (f"; {_plural(len(g.new), 'new', 'new')}" if g.new else "")
        )
    if g.unchanged or g.noisy:
        return f"**{lead}: no change found** — {tail}"
    if g.unmeasured:
        return (
            f"**{lead}: nothing decided yet** — {_plural(len(g.unmeasured), 'metric')} "
            f"need{'s' if len(g.unmeasured) == 1 else ''} "
            f"{MIN_RUNS} runs in all (base and head) to measure their run-to-run noise; each "
            "further run of main or of the base commit adds one"
        )
    return f"**{lead}: nothing to compare**" + (f" — {tail}" if tail else "")


def baseline_lines(baseline: Baseline) -> list[str]:
    """The base said once: which runs of which commit, on what machine and environment,
    what else was drawn on for the noise, and what differs."""
    if baseline.run is None:
        return [f"- environment differs: {escape(d)}" for d in baseline.differences]
    run = baseline.run
    if isinstance(run, ResultsFile):  # files given: nothing chose them, nothing matched them
        line = f"Base: {escape(baseline.reason)}, machine {code(run.machine, False)}"
    else:
        same = "environment differs" if baseline.differences else "same environment"
        line = f"Base: {escape(baseline.reason)}; same machine ({code(run.machine, False)}), {same}"
    if baseline.noise_runs:
        line += f"; {_plural(len(baseline.noise_runs), 'earlier run')} of main for the noise"
    lines = [line + "."]
    lines += [f"- environment differs: {escape(d)}" for d in baseline.differences]
    lines += [
        f"- run conditions differ: {escape(d)} (timings may move for that reason)"
        for d in baseline.conditions
    ]
    return lines


def _fold(summary: str, body: Sequence[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def folded_sections(g: _Groups, extras: CommentExtras) -> list[list[str]]:
    """Everything without a change verdict, one fold a reason, each saying what it would
    take (or what it could detect)."""
    out: list[list[str]] = []
    if g.unchanged:
        bound = max(_bound(c) for c in g.unchanged)
        title = f"{_plural(len(g.unchanged), 'unchanged', 'unchanged')}: each within ±{bound:.1%}"
        out.append(_fold(title, _table(g.unchanged, extras, with_trend=False)))
    if g.noisy:
        detectable = [c.detectable for c in g.noisy if c.detectable is not None]
        could = f", the smallest could detect ±{min(detectable):.1%}" if detectable else ""
        title = f"{_plural(len(g.noisy), 'inconclusive', 'inconclusive')}: too noisy to tell{could}"
        out.append(_fold(title, _noisy_table(g.noisy, extras)))
    if g.unmeasured:
        title = (
            f"{_plural(len(g.unmeasured), 'metric')} without a verdict yet: run-to-run noise "
            f"unknown with fewer than {MIN_RUNS} runs in all"
        )
        out.append(_fold(title, _table(g.unmeasured, extras, with_trend=False)))
    for rows, title in (
        (g.new, "new: no base measurement"),
        (g.missing, "missing: measured in the base, not in the head"),
        (g.process_wide, "process-wide memory figures: kept, never judged"),
    ):
        if rows:
            out.append(_fold(f"{len(rows)} {title}", _table(rows, extras, with_trend=False)))
    return out


def _noisy_table(rows: Sequence[Comparison], extras: CommentExtras) -> list[str]:
    shown, _ = _params_split(rows)
    headers = ["benchmark", *(["params"] if shown else []), "metric", "could detect", "interval"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for c in rows[:TABLE_ROWS]:
        cells = [_benchmark_cell(c, extras), *([_params_cell(c, shown)] if shown else [])]
        could = f"±{c.detectable:.1%}" if c.detectable is not None else ""
        cells += [code(c.metric), could, _interval(c)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > TABLE_ROWS:
        lines += ["", f"…and {len(rows) - TABLE_ROWS} more, listed on the dashboard page."]
    return lines


def comment_markdown(
    baseline: Baseline,
    comparisons: Sequence[Comparison],
    title: str = "perfci",
    extras: CommentExtras | None = None,
    limit: int | None = None,
) -> str:
    """The comment: the headline, the base, regressions, failures and improvements in
    tables, the regressions' "why" sections, then the folds. Within `limit` characters
    the folds go first (each replaced by its one-line summary), then the why sections,
    last first (each replaced by its line), so the headline, the base and the changes
    always stay."""
    extras = extras or CommentExtras()
    head = [headline(baseline, comparisons, title), ""]
    if extras.same_job is not None:
        head += [same_job_line(extras.same_job), ""]
    head += baseline_lines(baseline)
    if baseline.run is None:
        return "\n".join(head) + "\n"
    g = _groups(comparisons)
    noise = (
        "are paired over the rounds, hold at every look (an always-valid sequential test)"
        if extras.same_job is not None
        else "include run-to-run noise"
    )
    head += [
        "",
        f"Intervals {noise} and are adjusted for the {len(comparisons)} metrics compared "
        "(false-coverage rate 5%).",
    ]
    for rows, name in (
        (g.regressions, "Regressions"),
        (g.errors, "Failures"),
        (g.improvements, "Improvements"),
    ):
        if rows:
            head += ["", f"**{name}**", "", *_table(rows, extras, with_trend=True)]
    if extras.why_line is not None:
        head += ["", extras.why_line]
    whys = list(extras.whys)
    folds = [line for fold in folded_sections(g, extras) for line in fold]
    text = "\n".join(head + _whys(whys, len(whys)) + folds) + "\n"
    if limit is None or len(text) <= limit:
        return text
    collapsed = []
    for fold in folded_sections(g, extras):
        summary = fold[1].removeprefix("<details><summary>").removesuffix("</summary>")
        collapsed += ["", f"- {summary} (listed on the dashboard page)"]
    for shown in range(len(whys), -1, -1):
        text = "\n".join(head + _whys(whys, shown) + collapsed) + "\n"
        if len(text) <= limit:
            break
    return text


def _whys(whys: Sequence[Why], shown: int) -> list[str]:
    """The first `shown` why sections in full, the others by their line."""
    lines = [line for w in whys[:shown] for line in ("", w.markdown)]
    rest = [w.short for w in whys[shown:]]
    return lines + (["", *rest] if rest else [])
