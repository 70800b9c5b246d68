"""Whether an asset can go to each network, as it is or once adapted: the `fits_<network>`
search facets (docs/architecture.md §3.6), one per network of `app.networks.RULES`.

The verdict is the post check's own: a file fits a network when `networks.check` finds nothing
to refuse in a post holding that file alone (with the default `adapt=True`, so an image that
only needs resizing or converting fits; a video too long or too short does not). Meilisearch
documents carry the verdict computed in Python (`verdicts`). PostgreSQL has no column for it,
so `condition` states the same verdict as SQL over the asset's own columns; it holds no figure
of its own: which kinds a network takes is asked of `networks.check`, and the only limits that
depend on a file's values and are not adapted (a video's duration, a document's weight) are
read from `networks.RULES` and `networks.ADAPTABLE`. tests/search/test_fits.py checks that both
agree with `networks.check` over a corpus of files made to break every limit.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql

from app import networks
from app.models import MediaKind, Platform

NETWORKS: tuple[Platform, ...] = tuple(networks.RULES)
# Limits that depend on a file's values and that no rendition fixes, with the kind they concern.
_VALUE_LIMITS = {"video_duration": MediaKind.VIDEO, "document_size": MediaKind.DOCUMENT}


def attribute(platform: Platform) -> str:
    """The document attribute (Meilisearch) of the facet, e.g. `fits_instagram`."""
    return f"fits_{platform.value}"


def facts(kind, mime, size, width=None, height=None, duration_s=None, fps=None) -> networks.MediaFacts:
    """The check's facts from an asset's columns (as `app/campaigns/objects.py` reads them)."""
    return networks.MediaFacts(
        kind=str(getattr(kind, "value", kind)),
        mime=mime or "",
        size=int(size or 0),
        width=width,
        height=height,
        duration_s=float(duration_s) if duration_s is not None else None,
        fps=float(fps) if fps is not None else None,
    )


def fits(platform: Platform, item: networks.MediaFacts) -> bool:
    # The problems' messages are dropped: any locale will do, and workers have no request.
    with force_locale("en"):
        return not networks.check(platform, "", [item])


def verdicts(item: networks.MediaFacts) -> dict[str, bool]:
    """Every facet attribute of one file: `{"fits_facebook": True, ...}`."""
    return {attribute(platform): fits(platform, item) for platform in NETWORKS}


@cache
def _accepted_kinds(platform: Platform) -> tuple[MediaKind, ...]:
    """The kinds of file the network takes at all, asked of the check with a file of each kind
    whose values break no limit (size 0, duration and dimensions unknown)."""
    return tuple(kind for kind in MediaKind if fits(platform, networks.MediaFacts(kind=kind.value, mime="", size=0)))


def condition(platform: Platform, kind, size, duration) -> sa.ColumnElement[bool]:
    """The verdict as a SQL condition over these columns (kind, size in bytes, seconds)."""
    rules, adaptable = networks.RULES[platform], networks.ADAPTABLE
    limits = {code: concerned for code, concerned in _VALUE_LIMITS.items() if code not in adaptable}
    accepted = []
    for kind_value in _accepted_kinds(platform):
        parts = [kind == kind_value.value]
        if limits.get("video_duration") is kind_value and rules.video_seconds:
            low, high = rules.video_seconds
            parts.append(sa.or_(duration.is_(None), duration.between(low, high)))
        if limits.get("document_size") is kind_value and rules.document_max_bytes:
            parts.append(size <= rules.document_max_bytes)
        accepted.append(sa.and_(*parts))
    return sa.or_(*accepted) if accepted else sa.false()


_ALIASED = sa.table("d", sa.column("kind"), sa.column("size_bytes"), sa.column("duration_s"))


@cache
def sql(platform: Platform) -> str:
    """`condition` over the assets table aliased `d`, as SQL text (its values are the rules'
    figures, never user input)."""
    expression = condition(platform, _ALIASED.c.kind, _ALIASED.c.size_bytes, _ALIASED.c.duration_s)
    return "(" + str(expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})) + ")"


def sql_array() -> str:
    """The networks an asset of `d` fits, as a text[] (for the facet counts)."""
    return "array_remove(ARRAY[{}]::text[], NULL)".format(
        ", ".join(f"CASE WHEN {sql(platform)} THEN '{platform.value}' END" for platform in NETWORKS)
    )
