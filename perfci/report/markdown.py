"""Text from outside perfci made safe for GitHub-flavoured Markdown, and still readable
in the raw: names go into code spans (`code`), other text through `escape`.

Benchmark names, parameters, commit subjects, machine names and acknowledgement reasons
come from the repository under test or its runner: no Markdown or HTML in them may render,
link, ping someone, refer to an issue or break a table.
"""

from __future__ import annotations

import html
import re

# Punctuation that starts or ends emphasis, code, links, tables, strikethrough and math
# (`$`, GitHub's) anywhere in a line; `<`, `>` and `&` become entities.
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
# What only means something at the start of a line: a heading, a list, a setext underline.
_LINE_START = re.compile(r"^(?:[#+=-]|\d+(?=[.)]))")
# GitHub links `@name` (a mention), `#123` and `GH-123` (issues), `name@host.tld`
# (e-mail), `scheme://` and `www.` addresses, and renders `:emoji:` codes, in the rendered
# text, where an entity such as &#64; is an `@` again. A word joiner (U+2060, invisible,
# no break) right after the `@`, `#`, `GH-`, `:` or `www` leaves the text as it reads
# while no longer matching any of them.
_LINKING = re.compile(r"@|#(?=\d)|\bGH-(?=\d)|:(?=\w|//)|\bwww(?=\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Plain text safe inside Markdown and a table cell: line breaks flattened, `<`, `>`
    and `&` HTML-escaped, Markdown punctuation backslash-escaped where it could mean
    something, and mentions, issue references, addresses and emoji codes unlinked."""
    flat = " ".join(text.split())
    unlinked = _LINKING.sub(lambda m: m.group(0) + WORD_JOINER, flat)
    escaped = _INLINE.sub(r"\\\1", html.escape(unlinked, quote=False))
    if match := _LINE_START.match(escaped):
        lead = match.group(0)
        if lead.isdigit():  # "1." or "1)" would start an ordered list
            at = len(lead)
            return escaped[:at] + "\\" + escaped[at:]
        return "\\" + escaped
    return escaped


def code(text: str, in_table: bool = True) -> str:
    """`text` as a code span, where GitHub renders nothing: a fence longer than any run of
    backticks in it, padded when it starts or ends with one, and pipes escaped where a
    table cell would end at them (GFM reads `\\|` in a cell's code span as `|`)."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat[0] == "`" or flat[-1] == "`" else ""
    body = flat.replace("|", "\\|") if in_table else flat
    return f"{fence}{pad}{body}{pad}{fence}"
