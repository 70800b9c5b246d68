"""One view, one template: the full page for a normal request, a named block for htmx."""
from __future__ import annotations

from flask import request
from jinja2_fragments.flask import render_block
from flask import render_template


def wants_fragment() -> bool:
    """htmx asked for a piece of the page (boosted and history-restore requests want it all)."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true"
            and h.get("HX-History-Restore-Request") != "true")


def render(template: str, *, block: str | None = None, status: int = 200, **context):
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return body, status, {"Vary": "HX-Request"}
