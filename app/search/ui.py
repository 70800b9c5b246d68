"""What the library and the picker show for a search: URL state in, assets and facet chips out.

The whole state lives in the query string (q, kind, tag, uploader, date_from, date_to, fits,
page: the library's own filter names; the picker adds its host's target networks, `for`, and
`anyfit`), so a pushed URL, a shared link and the back button all render the same thing
server-side. Without words the library browses as before (newest first, keyset cursor:
`app.media.service`); with words the search service answers, page by page, with highlighted
matches. Either way the facet counts come from the search service.

Filters stay single-valued, as the library's form has them: a chip sets its value, the
active chip clears it, and a month chip is that month's date range. The networks a file must
fit are the exception: a set, shown by the form as one checkbox per network, that a chip adds
to or takes from. So every state a chip makes is one the form can show and the keyset
browsing can serve.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date, lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.labels import platform_label
from app.media import display, service
from app.media.tags import normalize
from app.models import MediaAsset, MediaKind, User
from app.search import InvalidSearch, MediaFilters, SearchResult, fits, search_media
from app.search.types import MAX_QUERY_CHARS, MAX_TOTAL_HITS, PER_PAGE

LAST_PAGE = math.ceil(MAX_TOTAL_HITS / PER_PAGE)
MAX_TAG_CHIPS = 12
ENGINE_NAMES = {"meilisearch": "Meilisearch", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class State:
    """The words, the library's filters and the search page, read from query arguments."""

    q: str = ""
    filters: service.Filters = service.Filters()
    page: int = 1

    @classmethod
    def from_args(cls, args, prefix: str = "") -> "State":
        """`prefix` keeps the picker's fields apart from those of the form it sits in."""
        page = args.get(prefix + "page", "1")
        page = min(int(page), LAST_PAGE) if page.isdigit() and int(page) > 0 else 1
        return cls(args.get(prefix + "q", "")[:MAX_QUERY_CHARS], service.Filters.from_args(args, prefix), page)

    @property
    def searching(self) -> bool:
        return bool(self.q.strip())

    def query_args(self, prefix: str = "", **changes) -> dict:
        """The arguments of this state's first page, with some filters changed."""
        args = replace(self.filters, **changes).query_args(prefix)
        return {prefix + "q": self.q, **args} if self.searching else args

    def media_filters(self) -> MediaFilters:
        """The search service's filters (raises InvalidSearch, e.g. for dates in reverse)."""
        f = self.filters
        uploader = f.uploader if f.uploader and f.uploader < 2**31 else None
        return MediaFilters(
            kinds=[f.kind] if f.kind else [],
            tags=[f.tag] if f.tag else [],
            uploader_ids=[uploader] if uploader else [],
            created_from=f.date_from,
            created_to=f.date_to,
            fits=f.required_fits,
        )


@dataclass(frozen=True)
class Chip:
    label: str
    count: int
    active: bool
    args: dict  # the query arguments after a click: the filter added, or removed


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    chips: list[Chip]


@dataclass
class Listing:
    items: list[MediaAsset]
    highlights: dict[int, dict[str, Markup]]  # asset id -> "title" and, if it matched, "snippet"
    more: dict | None  # the arguments of the next slice; None at the end
    facets: list[Facet]
    result: SearchResult | None = None  # when searching: total, engine and time

    @property
    def engine_name(self) -> str:
        return ENGINE_NAMES.get(self.result.engine, self.result.engine) if self.result else ""


def listing(
    state: State, cursor: str | None = None, *, limit: int = service.PAGE_SIZE, prefix: str = "", facets: bool = True
) -> Listing:
    """One slice of results: a search page when there are words, else a keyset page."""
    try:
        filters = state.media_filters()
    except InvalidSearch:
        return Listing([], {}, None, [])
    if state.searching:
        result = search_media(state.q, filters, page=state.page, facets=facets)
        more = {**state.query_args(prefix), prefix + "page": state.page + 1} if state.page < result.pages else None
        return Listing(
            _assets(result.ids), _highlights(result), more, _facets(result, state, prefix) if facets else [], result
        )
    page = service.library_page(state.filters, cursor, limit)
    more = {**state.query_args(prefix), "cursor": page.next_cursor} if page.next_cursor else None
    counts = _facets(search_media("", filters), state, prefix) if facets else []
    return Listing(page.items, {}, more, counts)


def _assets(ids: list[int]) -> list[MediaAsset]:
    """The hits' assets in the engine's order; ids the database no longer has are dropped."""
    query = sa.select(MediaAsset).options(selectinload(MediaAsset.tags)).where(MediaAsset.id.in_(ids))
    found = {asset.id: asset for asset in db.session.scalars(query)}
    return [found[i] for i in ids if i in found]


def _highlights(result: SearchResult) -> dict[int, dict[str, Markup]]:
    """Titles always (escaped, matches in <mark>); the description only when it matched."""
    marked = {}
    for hit in result.hits:
        snippet = hit.highlights.get("description")
        marked[hit.id] = {
            "title": hit.highlights.get("title"),
            "snippet": snippet if snippet and "<mark>" in snippet else None,
        }
    return marked


def _month(value: str) -> tuple[date, date]:
    first = date.fromisoformat(value + "-01")
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _facets(result: SearchResult, state: State, prefix: str) -> list[Facet]:
    f, counts = state.filters, result.facets or {}

    def chip(label, count: int, active: bool, on: dict, off: dict) -> Chip:
        return Chip(str(label), count, active, state.query_args(prefix, **(off if active else on)))

    tags = sorted(counts.get("tags", {}).items(), key=lambda item: (-item[1], item[0].casefold()))
    current = normalize(f.tag) if f.tag else None
    tags = [t for t in tags if normalize(t[0]) == current] + [t for t in tags if normalize(t[0]) != current]
    uploaders = counts.get("uploader", {})
    names = (
        dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_([int(i) for i in uploaders]))).all())
        if uploaders
        else {}
    )
    months = sorted(counts.get("month", {}).items(), reverse=True)
    fitting = counts.get("fits", {})
    facets = [
        Facet(
            "tags",
            _l("Tags"),
            [chip(name, n, normalize(name) == current, {"tag": name}, {"tag": ""}) for name, n in tags[:MAX_TAG_CHIPS]],
        ),
        Facet(
            "kind",
            _l("Kind"),
            [
                chip(display.kind_label(MediaKind(kind)), n, f.kind == kind, {"kind": kind}, {"kind": ""})
                for kind, n in counts.get("kind", {}).items()
                if kind in MediaKind._value2member_map_
            ],
        ),
        Facet(
            "uploader",
            _l("Uploaded by"),
            [
                chip(names[int(i)], n, f.uploader == int(i), {"uploader": int(i)}, {"uploader": None})
                for i, n in uploaders.items()
                if int(i) in names
            ],
        ),
        Facet(
            "month",
            _l("Month"),
            [
                chip(
                    format_date(first, "LLLL y"),
                    n,
                    (f.date_from, f.date_to) == (first, last),
                    {"date_from": first, "date_to": last},
                    {"date_from": None, "date_to": None},
                )
                for (first, last), n in ((_month(value), n) for value, n in months)
            ],
        ),
        # A chip per network adds it to the networks every file must fit, or takes it out.
        Facet(
            "fits",
            _l("Fits"),
            [
                chip(
                    platform_label(platform),
                    fitting[platform.value],
                    platform.value in f.fits,
                    {"fits": f.fits + (platform.value,)},
                    {"fits": tuple(n for n in f.fits if n != platform.value)},
                )
                for platform in fits.NETWORKS
                if fitting.get(platform.value)
            ],
        ),
    ]
    return [facet for facet in facets if facet.chips]
