"""The media picker: an htmx partial any form can load to choose assets, in order.

A host form places `<div hx-get="/media/picker?field=media_ids" hx-trigger="load">` (plus the
ids already chosen, as `media_ids=3&media_ids=1`); the picker renders the ordered selection as
hidden inputs named by `field`, with buttons to remove and reorder, and the library's instant
search (words, filters, facet chips: `app.search.ui`) to add from; searching never touches the
selection. Its own fields are prefixed `picker_` and it holds no `<form>` of its own, so it
can sit inside the host's form. Without htmx, `/media/picker` is a page of its own whose form
shows the ids it would send.

A post form passes the networks the files are for (`picker_for`, repeatable): the picker then
offers by default only the files that fit every one of them (app/search/fits.py), with a box to
show them all. It also follows the form's target boxes (`<input data-platform>`) as they
change (media.js), unless loaded with `follow=none` (e.g. a picker for one network's files).
"""

import re

from flask import abort, request
from flask_babel import lazy_gettext as _l

from app.media import bp, service
from app.models import Role
from app.rendering import render
from app.search import ui
from app.security import role_required

FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
PREFIX = "picker_"
PAGE_SIZE = 12


def _field() -> str:
    field = request.args.get("field", "media_ids")
    if not FIELD.match(field) or field.startswith(PREFIX):
        abort(400)
    return field


def _selected(field: str) -> list:
    ids = service.change_selection(
        request.args.getlist(field, type=int),
        **{op: request.args.get(op, type=int) for op in ("add", "remove", "up", "down")},
    )
    return service.assets_in_order(ids)


@bp.get("/picker")
@role_required(Role.EDITOR)
def picker():
    field, state = _field(), ui.State.from_args(request.args, PREFIX)
    return render(
        "media/picker.html",
        block="picker",
        field=field,
        state=state,
        filters=state.filters,
        listing=ui.listing(state, limit=PAGE_SIZE, prefix=PREFIX),
        selected=_selected(field),
        follow_targets=request.args.get("follow") != "none",
        title=_l("Choose media"),
    )


@bp.get("/picker/results")
@role_required(Role.EDITOR)
def picker_results():
    field, state, cursor = _field(), ui.State.from_args(request.args, PREFIX), request.args.get("cursor")
    more = bool(cursor) or state.page > 1
    listing = ui.listing(state, cursor, limit=PAGE_SIZE, prefix=PREFIX, facets=not more)
    return render(
        "media/picker.html",
        block="picker_more" if more else "results",
        field=field,
        state=state,
        filters=state.filters,
        listing=listing,
        selected=[],
        title=_l("Choose media"),
    )


@bp.get("/picker/selection")
@role_required(Role.EDITOR)
def picker_selection():
    field = _field()
    return render(
        "media/picker.html",
        block="selection",
        field=field,
        selected=_selected(field),
        state=ui.State(),
        filters=service.Filters(),
        listing=ui.Listing([], {}, None, []),
        title=_l("Choose media"),
    )
