"""What a search asks and what it answers: the same for both engines.

A request is validated here once (query words, filters, sort, page), so the engines only
translate it: `postgres.py` into one SQL statement, `meili.py` into one search call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import date

from markupsafe import Markup

from app.models import MediaKind, MediaStatus, ObjectStatus, Platform

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 10  # Meilisearch ignores the words after the tenth
PER_PAGE = 20
MAX_TOTAL_HITS = 1000  # the indexes' `pagination.maxTotalHits`: the last reachable hit
MAX_FILTER_VALUES = 20
WORD = re.compile(r"[^\W_]+")

# Sort keys offered to users -> (field, direction); None is relevance.
MEDIA_SORTS = {
    "relevance": None,
    "newest": ("created_at", "desc"),
    "oldest": ("created_at", "asc"),
    "title": ("title", "asc"),
}
OBJECT_SORTS = {"relevance": None, "updated": ("updated_at", "desc"), "scheduled": ("scheduled_at", "asc")}


class InvalidSearch(ValueError):
    """A query, filter, sort or page the user (or a caller) got wrong: a 400, never a 500."""


def _values(name: str, values, convert) -> tuple:
    values = tuple(values or ())
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidSearch(f"{name}: at most {MAX_FILTER_VALUES} values")
    try:
        return tuple(dict.fromkeys(convert(value) for value in values))
    except (TypeError, ValueError) as exc:
        raise InvalidSearch(f"{name}: {exc}") from None


def _choice(enum_cls):
    allowed = {member.value for member in enum_cls}

    def convert(value) -> str:
        if str(value) not in allowed:
            raise ValueError(f"unknown value {str(value)[:40]!r}")
        return str(value)

    return convert


def _tag(value) -> str:
    text = str(value).strip()
    if not text or len(text) > 80:
        raise ValueError("a tag has 1 to 80 characters")
    return text


def _id(value) -> int:
    number = int(value)
    if not 0 < number < 2**31:
        raise ValueError(f"not an id: {number}")
    return number


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidSearch(f"not a date (YYYY-MM-DD): {str(value)[:20]!r}") from None


@dataclass(frozen=True)
class MediaFilters:
    """Any of the kinds, tags, uploaders and statuses given; created within the dates; fit for
    every network in `fits` (as it is or once adapted: app/search/fits.py)."""

    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    uploader_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    fits: tuple[str, ...] = ()  # network names (Platform values)

    def __post_init__(self):
        checks = {
            "kinds": _choice(MediaKind),
            "tags": _tag,
            "uploader_ids": _id,
            "statuses": _choice(MediaStatus),
            "fits": _choice(Platform),
        }
        for name, convert in checks.items():
            object.__setattr__(self, name, _values(name, getattr(self, name), convert))
        for name in ("created_from", "created_to"):
            object.__setattr__(self, name, _date(getattr(self, name)))
        if self.created_from and self.created_to and self.created_to < self.created_from:
            raise InvalidSearch("the end date is before the start date")

    @classmethod
    def from_args(cls, args) -> "MediaFilters":
        """From query-string arguments: kind, tag, uploader, status, fits (repeatable), from, to."""
        return cls(
            kinds=args.getlist("kind"),
            tags=args.getlist("tag"),
            uploader_ids=args.getlist("uploader"),
            statuses=args.getlist("status"),
            created_from=args.get("from"),
            created_to=args.get("to"),
            fits=args.getlist("fits"),
        )


@dataclass(frozen=True)
class ObjectFilters:
    """Any of the campaigns, statuses, target platforms and authors given."""

    campaign_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    author_ids: tuple[int, ...] = ()

    def __post_init__(self):
        checks = {
            "campaign_ids": _id,
            "statuses": _choice(ObjectStatus),
            "platforms": _choice(Platform),
            "author_ids": _id,
        }
        for name, convert in checks.items():
            object.__setattr__(self, name, _values(name, getattr(self, name), convert))

    @classmethod
    def from_args(cls, args) -> "ObjectFilters":
        return cls(
            campaign_ids=args.getlist("campaign"),
            statuses=args.getlist("status"),
            platforms=args.getlist("platform"),
            author_ids=args.getlist("author"),
        )


@dataclass(frozen=True)
class SearchRequest:
    """A validated search of one index ("media" or "objects")."""

    index: str
    text: str
    words: tuple[str, ...]
    prefix: bool  # the last word is still being typed (no separator after it)
    filters: MediaFilters | ObjectFilters
    sort: str
    page: int
    facets: bool
    limit: int = PER_PAGE  # hits per page
    highlight: bool = True  # False: ids only (the texts are neither marked nor returned)

    @classmethod
    def build(
        cls, index: str, query, filters, sort, page, facets: bool, *, limit: int = PER_PAGE, highlight: bool = True
    ) -> "SearchRequest":
        text = str(query or "")[:MAX_QUERY_CHARS]
        found = WORD.findall(text.lower())
        words = tuple(found[:MAX_QUERY_WORDS])
        prefix = bool(words) and len(found) <= MAX_QUERY_WORDS and bool(WORD.search(text[-1:]))
        sorts = MEDIA_SORTS if index == "media" else OBJECT_SORTS
        sort = sort or "relevance"
        if sort not in sorts:
            raise InvalidSearch(f"sort: one of {', '.join(sorts)}")
        try:
            page = int(page or 1)
        except (TypeError, ValueError):
            raise InvalidSearch("page: a number") from None
        if not 1 <= limit <= MAX_TOTAL_HITS:
            raise InvalidSearch(f"limit: from 1 to {MAX_TOTAL_HITS}")
        if not 1 <= page <= math.ceil(MAX_TOTAL_HITS / limit):
            raise InvalidSearch(f"page: from 1 to {math.ceil(MAX_TOTAL_HITS / limit)}")
        expected = MediaFilters if index == "media" else ObjectFilters
        filters = filters if filters is not None else expected()
        if not isinstance(filters, expected):
            raise InvalidSearch(f"filters: a {expected.__name__}")
        return cls(index, text, words, prefix, filters, sort, page, facets, limit, highlight)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass
class Hit:
    id: int
    highlights: dict[str, Markup]  # field -> escaped HTML, matches wrapped in <mark>


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int  # estimated, as Meilisearch's estimatedTotalHits
    facets: dict[str, dict[str, int]]
    engine: str  # "meilisearch" or "postgres"
    page: int = 1
    per_page: int = PER_PAGE
    elapsed_ms: float = 0.0
    fallback: bool = False  # Meilisearch is configured, PostgreSQL answered

    @property
    def ids(self) -> list[int]:
        return [hit.id for hit in self.hits]

    @property
    def pages(self) -> int:
        return math.ceil(min(self.total, MAX_TOTAL_HITS) / self.per_page)

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "hits"}
        data["hits"] = [
            {"id": hit.id, "highlights": {k: str(v) for k, v in hit.highlights.items()}} for hit in self.hits
        ]
        return data
