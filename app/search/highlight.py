"""Highlighted snippets as safe HTML, whichever engine marked the matches.

Both engines wrap matches in two private-use characters instead of HTML tags: the text is
escaped first, then only balanced marker pairs become `<mark>`, so a title can never inject
markup (ts_headline does not escape, and Meilisearch returns the stored text as is).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

PRE, POST = "\ue000", "\ue001"
MARKERS = re.compile(f"[{PRE}{POST}]")


def to_html(marked: str | None) -> Markup:
    text = str(escape(marked or ""))  # the markers are not HTML: escaping keeps them
    out, opened, last = [], False, 0
    for marker in MARKERS.finditer(text):
        out.append(text[last : marker.start()])
        last = marker.end()
        if (marker.group() == PRE) != opened:  # an opening when closed, a closing when open
            out.append("</mark>" if opened else "<mark>")
            opened = not opened
    out.append(text[last:])
    if opened:
        out.append("</mark>")
    return Markup("".join(out))


def crop(marked: str | None, words: int = 20) -> str:
    """About `words` words around the first match (the whole text when it is short)."""
    parts = (marked or "").split()
    if len(parts) <= words:
        return " ".join(parts)
    first = next((i for i, part in enumerate(parts) if PRE in part), 0)
    start = max(0, min(first - words // 3, len(parts) - words))
    return (
        ("… " if start else "") + " ".join(parts[start : start + words]) + (" …" if start + words < len(parts) else "")
    )
