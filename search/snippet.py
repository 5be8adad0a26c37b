"""Snippets: the matched words in `<mark>`, everything else HTML-escaped.

PostgreSQL's `ts_headline` marks the words its stemming matched with two private-use
characters (never HTML); only here do they become `<mark>` and `</mark>`, after the text
around them was escaped, so a post containing `<script>` comes back as text. A stray
marker character in someone's text is dropped rather than allowed to open a tag.
"""

from __future__ import annotations

import re
from html import escape

START, STOP = "\ue000", "\ue001"
# ts_headline's options: one passage of 12-30 words around the best match, the markers above
# (two fragments cost half as much again per row, in the query's last step).
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, ShortWord=2"
SNIPPET_CHARS = 200
_MARKED = re.compile(f"{START}([^{START}{STOP}]*){STOP}")


def render_marked(text: str) -> str:
    """Text with START…STOP around matches → escaped HTML with `<mark>` around them."""
    parts: list[str] = []
    position = 0
    for match in _MARKED.finditer(text):
        parts.append(_plain(text[position : match.start()]))
        parts.append(f"<mark>{_plain(match.group(1))}</mark>")
        position = match.end()
    parts.append(_plain(text[position:]))
    return "".join(parts)


def _plain(text: str) -> str:
    return escape(text.replace(START, "").replace(STOP, ""), quote=False)


def highlight(text: str, terms: list[str]) -> str:
    """A snippet of `text` around the first of `terms` (case-insensitive substrings), each occurrence marked.

    The embedded (SQLite) search and names matched by trigram: no stemming to follow, so
    what matched is what was typed.
    """
    text = " ".join(text.split())
    needles = sorted({term.lower() for term in terms if term.strip()}, key=len, reverse=True)
    if not needles:
        return _plain(text[:SNIPPET_CHARS])
    pattern = re.compile("|".join(re.escape(needle) for needle in needles), re.IGNORECASE)
    first = pattern.search(text)
    start = 0
    if first is not None and first.start() > SNIPPET_CHARS // 2:
        start = text.rfind(" ", 0, first.start() - SNIPPET_CHARS // 4) + 1
    window = text[start : start + SNIPPET_CHARS]
    marked = pattern.sub(lambda match: f"{START}{match.group(0)}{STOP}", window.replace(START, "").replace(STOP, ""))
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + SNIPPET_CHARS < len(text) else ""
    return escape(prefix, quote=False) + render_marked(marked) + escape(suffix, quote=False)
