"""The pull-request comment's report, made on the trusted side: the artifact's results
files, once checked (`perfci.github.artifact.read_pull_results`), are added to a store of
main's runs and compared there, so no text from the pull request's run is ever posted.
A same-job A/B folder needs no store: its rounds are judged again from the files, as
`perfci ab` judges them, against the merge-base the trusted side knows."""

from __future__ import annotations

from pathlib import Path

from perfci.ab.report import ab_markdown
from perfci.baseline import Verdicts, compare_head, main_trends
from perfci.config import Config
from perfci.github.artifact import PullResults
from perfci.github.comment import MARKDOWN_LIMIT
from perfci.report.comment import CommentExtras, comment_markdown
from perfci.results import ResultsError
from perfci.store import Store
from perfci.store.ingest import ingest_runs
from perfci.store.queries import get_run


def compare_pull(
    store: Store, results: PullResults, merge_base: str, config: Config, cwd: Path | None
) -> Verdicts:
    """The checked results stored in `store` (runs stored before are not stored twice),
    then their head commit compared with its base runs along `merge_base`'s first-parent
    history (`cwd`: a checkout whose git knows it, else the parents the store recorded),
    pull requests' runs passed over, as the runner's comparison of the merge-base does."""
    stored = ingest_runs(store, [result for _, result in results.files])
    runs = [get_run(store, s.run_id) for s in stored]
    heads = sorted((r for r in runs if r is not None), key=lambda r: (r.started_at, r.id))
    if not heads:
        raise ResultsError(f"no run of pull request #{results.number} could be stored")
    return compare_head(heads[-1], store, config, start=merge_base, main_only=True, cwd=cwd)


def pull_markdown(
    store: Store,
    results: PullResults,
    merge_base: str,
    config: Config,
    cwd: Path | None,
    page_url: str | None = None,
) -> str:
    """`compare_pull`'s verdicts as the comment's Markdown (the renderer of `perfci
    compare --format markdown`), each change linked to its row on `page_url` (the pull
    request's dashboard page) with main's recent trend, within GitHub's comment limit."""
    verdicts = compare_pull(store, results, merge_base, config, cwd)
    extras = CommentExtras(page_url, main_trends(store, verdicts, cwd))
    return comment_markdown(
        verdicts.baseline, verdicts.comparisons, extras=extras, limit=MARKDOWN_LIMIT
    )


def ab_pull_markdown(results: PullResults, merge_base: str, config: Config) -> str:
    """The comment of an A/B folder (`results.ab`): its rounds judged again from their
    files (`perfci.ab.session.judge_rounds`, with `config`'s minimum effects and
    acknowledgements), once its base is known to be `merge_base`, with a why section per
    regression from the diffs the folder keeps; ResultsError when the base is another
    commit."""
    if results.ab is None:
        raise ValueError("not an A/B folder")
    base = results.ab.manifest.base
    if not base.startswith(merge_base.lower()):
        raise ResultsError(
            f"the A/B comparison's base {base[:12]} is not the merge-base {merge_base[:12]} "
            f"of pull request #{results.number}"
        )
    # the why sections come from the folder's checked diff files (perfci.ab.diff_file)
    explained = results.ab.explained
    return ab_markdown(results.ab.outcome(config), limit=MARKDOWN_LIMIT, explained=explained)
