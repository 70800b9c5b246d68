"""Search service: one entry point and one result type, whichever engine answers.

`search_media(query, filters, sort, page)` and `search_objects(...)` return a
`SearchResult`: hit ids with highlighted snippets, the estimated total, facet counts, the
engine that answered and the time it took.

Meilisearch answers when `MEILI_URL` is set and its circuit is closed; a Meilisearch error
or an answer slower than `SEARCH_BUDGET_MS` (no retry) sends that query to PostgreSQL and
opens the circuit for `SEARCH_CIRCUIT_COOLDOWN_S` (see `circuit.py`), so users never get an
error page because Meilisearch is down. PostgreSQL full-text search (`postgres.py`) serves
everything otherwise. Writers keep Meilisearch in sync by calling `schedule_media_sync` in
the transaction that changed the rows; content objects need no call (`wiring.py` schedules
`schedule_object_sync` from the session's flushes); PostgreSQL needs no call either (its
triggers keep its vectors right).
"""

from __future__ import annotations

import time

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

# schema: the metadata; wiring: the session listeners that schedule content object syncs
from app.search import circuit, meili, postgres, schema, wiring  # noqa: F401
from app.search.types import MAX_TOTAL_HITS, InvalidSearch, MediaFilters, ObjectFilters, SearchRequest, SearchResult
from app.tasks import by_name

# The index sync actors (app/search/tasks.py), sent by name: that module imports this one
SYNC_ACTORS = {"media": by_name("sync_media"), "objects": by_name("sync_objects")}

__all__ = [
    "InvalidSearch",
    "MediaFilters",
    "ObjectFilters",
    "SearchResult",
    "engine_status",
    "object_ids",
    "schedule_media_sync",
    "schedule_object_sync",
    "search_media",
    "search_objects",
]


def search_media(
    query: str = "", filters: MediaFilters | None = None, sort: str = "relevance", page: int = 1, *, facets: bool = True
) -> SearchResult:
    """Media assets; `sort` is relevance, newest, oldest or title. Raises InvalidSearch."""
    return _search(SearchRequest.build("media", query, filters, sort, page, facets))


def search_objects(
    query: str = "",
    filters: ObjectFilters | None = None,
    sort: str = "relevance",
    page: int = 1,
    *,
    facets: bool = True,
) -> SearchResult:
    """Content objects; `sort` is relevance, updated or scheduled. Raises InvalidSearch."""
    return _search(SearchRequest.build("objects", query, filters, sort, page, facets))


def object_ids(query: str, filters: ObjectFilters | None = None) -> list[int]:
    """The ids of every matching content object, best first, up to MAX_TOTAL_HITS: for a page
    that filters its own listing by text (the campaign board), without highlights or facets."""
    return _search(
        SearchRequest.build("objects", query, filters, "relevance", 1, False, limit=MAX_TOTAL_HITS, highlight=False)
    ).ids


def _search(request: SearchRequest) -> SearchResult:
    started = time.perf_counter()
    config = current_app.config
    tz = config["BABEL_DEFAULT_TIMEZONE"]
    configured = meili.configured()
    if configured:
        attempt = circuit.attempt()
        if attempt:
            try:
                result = meili.search(request, tz, config["SEARCH_BUDGET_MS"])
            except meili.MeiliUnavailable as exc:
                circuit.record_failure(str(exc))
            else:
                if attempt == circuit.PROBE:
                    circuit.record_success()
                return _timed(result, started)
    result = postgres.search(request, tz)
    result.fallback = configured
    return _timed(result, started)


def _timed(result: SearchResult, started: float) -> SearchResult:
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    return result


def engine_status() -> dict:
    """Which engine serves searches now, for /readyz. Never raises: search is not fatal."""
    if not meili.configured():
        return {"engine": "postgres", "meilisearch": "off"}
    try:
        state = circuit.state()
    except redis.RedisError:
        state = "unknown"
    up = state != circuit.OPEN and meili.health(current_app.config["SEARCH_BUDGET_MS"])
    return {
        "engine": "meilisearch" if up else "postgres",
        "degraded": not up,
        "meilisearch": "up" if up else "unreachable",
        "circuit": state,
    }


# -- keeping Meilisearch in sync -------------------------------------------------------------


def schedule_media_sync(session: Session, ids) -> None:
    """Re-index these assets (created, changed, re-tagged or deleted) once `session` commits.

    Calls within one transaction share one message; a no-op without `MEILI_URL`.
    """
    _schedule(session, "media", ids)


def schedule_object_sync(session: Session, ids) -> None:
    """The same for content objects (title, message, status, targets or campaign changed)."""
    _schedule(session, "objects", ids)


def _schedule(session: Session, index: str, ids) -> None:
    ids = set(map(int, ids))
    if not ids or not meili.configured():
        return
    from app.tasks import send_after_commit

    key = f"search_sync_{index}"
    pending = session.info.get(key)
    if pending is None:
        # The message is built at commit time from this list, so later calls join it.
        pending = session.info[key] = []
        send_after_commit(session, SYNC_ACTORS[index], pending)
    pending.extend(sorted(ids - set(pending)))


def _forget(session: Session) -> None:
    session.info.pop("search_sync_media", None)
    session.info.pop("search_sync_objects", None)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    """The session's own transaction is over (its message left with the commit, or was
    dropped): the next transaction starts a message of its own. A savepoint's release is not
    the end: the ids keep joining the same message (app/tasks/__init__.py)."""
    if transaction.parent is None and not transaction.nested:
        _forget(session)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_after_savepoint(session: Session, previous_transaction) -> None:
    """A savepoint rolled back may have taken the message with it: later ids start a new one."""
    if previous_transaction.nested:
        _forget(session)
