"""Names from the repository under test, escaped for the pull-request comment, rendered by
cmark-gfm (GitHub's Markdown): the text reads as it was, nothing links, mentions, refers
to an issue, runs as HTML or breaks out of its table cell."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfci.report.markdown import WORD_JOINER, escape

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm renders Markdown as GitHub does")
EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter", "tasklist"]

# What GitHub turns into links in the rendered text (html-pipeline's filters) and what
# cmark-gfm's autolink extension does in the Markdown itself.
MENTION = re.compile(r"(?:^|\W)@[a-z0-9]", re.IGNORECASE)
ISSUE = re.compile(r"#\d|\bGH-\d", re.IGNORECASE)


def render_cell(text: str) -> tuple[str, str]:
    """The page cmark-gfm renders for a table whose one cell holds escape(text), and
    that cell's HTML."""
    body = f"| verdict | name |\n|---|---|\n| x | {escape(text)} |\n"
    page = cmarkgfm.markdown_to_html_with_extensions(body, extensions=EXTENSIONS)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)
    assert len(rows) == 2, page  # the header and our row: no line break escaped the cell
    cells = re.findall(r"<td>(.*?)</td>", rows[1], re.DOTALL)
    assert len(cells) == 2, page  # no pipe escaped the cell
    return page, cells[1]


def assert_inert(text: str) -> None:
    page, cell = render_cell(text)
    assert "<" not in cell, cell  # no tag: no link, no HTML, no code, no emphasis
    shown = html.unescape(cell)
    flat = " ".join(text.split())
    assert shown.replace(WORD_JOINER, "") == flat.replace(WORD_JOINER, "")  # reads as it was
    assert not MENTION.search(shown) and not ISSUE.search(shown), shown
    assert "href" not in page


@pytest.mark.parametrize(
    "text",
    [
        "@octocat",
        "ping @org/team and @x",
        "mail perf@example.com or user@host.io",
        "fixes #123, see GH-45 and gh-6, owner/repo#7",
        "<script>alert(1)</script> <b>bold</b> &amp; &#64;x &#35;1",
        "[a](javascript:evil) ![i](x.png) <https://e.com> https://e.com www.e.com",
        "`code` *em* _em_ ~~del~~ **strong** $x^2$ \\ back\\slash",
        "a | b || c \\| d",
        "line\nbreak\r\nand\ttab",
        "it's \"quoted\" & 'single'",
        "- [ ] not a task",
        "C# 3.0 and issue#4 and x@y",
    ],
)
def test_hostile_names_render_as_their_text(text: str) -> None:
    assert_inert(text)


def test_the_raw_markdown_stays_readable() -> None:
    assert escape("@octocat") == "@\u2060octocat"  # not the entity &#64;, which GitHub decodes
    assert escape("it's") == "it's"  # quotes are harmless outside HTML attributes
    assert escape("fix #12") == "fix #\u206012"
    # prose reads as written: no backslash before harmless punctuation, no entities
    said = "3 runs (newest: run 12) of its first-parent ancestor 0a1b2c, 2 commits back."
    assert escape(said) == said
    assert escape("- not a list") == "\\- not a list"
    assert escape("1. not a list") == "1\\. not a list"


TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)
PIECES = st.lists(
    st.sampled_from(
        [
            "@",
            "#",
            "1",
            "GH-",
            "user",
            "@host.com",
            "www.",
            "http://",
            ":",
            "|",
            "\\",
            "<",
            ">",
            "&",
            "#x27;",
            "&#64;",
            "`",
            "*",
            "_",
            "[",
            "]",
            "(",
            ")",
            "!",
            "$",
            "~",
            " ",
            "\n",
            "é",
        ]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(TEXT, PIECES))
def test_any_text_renders_as_itself_and_links_nothing(text: str) -> None:
    assert_inert(text)
