"""One view, one template: the full page for a normal request, a named block for htmx."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """htmx asked for a piece of the page (boosted and history-restore requests want it all)."""
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, *, block: str | None = None, status: int = 200, **context):
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return body, status, {"Vary": "HX-Request"}


def fragment_or_redirect(
    template: str,
    block: str,
    back_to: str,
    *,
    message: str | None = None,
    category: str = "info",
    status: int = 200,
    **context,
):
    """An htmx action re-renders its own box; the same form posted without JavaScript goes back
    to the page it came from (303), with the outcome as a flash message."""
    if not wants_fragment():
        if message:
            flash(message, category)
        return redirect(back_to, 303)
    return render(template, block=block, status=status, **context)
