"""Meilisearch engine (when `MEILI_URL` is set): indexes, settings, budgeted searches.

Two clients, on purpose. Administration and indexing (settings, documents, tasks) use the
official client, `meilisearch.Client(url, key, timeout=10)`, as docs/external-apis.md §3.6
asks. A user's search must answer within `SEARCH_BUDGET_MS` with no retry, so it goes
through one pooled `httpx.Client` per process whose timeout is the budget (connect, write
and read each bounded by it; on a kept-alive connection only the read waits), and any
failure is raised as `MeiliUnavailable` for the facade to fall back on PostgreSQL.

Filter values always travel quoted and escaped (`quote`): user input can add neither an
operator nor a condition to a filter expression.
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import meilisearch
from flask import current_app

from app.search import fits
from app.search.highlight import POST, PRE, crop, to_html
from app.models import Platform
from app.search.types import Hit, SearchRequest, SearchResult

MEDIA_SETTINGS = {
    "searchableAttributes": ["title", "filename", "description", "alt_text", "tags"],
    "filterableAttributes": [
        "kind",
        "tags",
        "uploader_id",
        "created_month",
        "created_at",
        "status",
        *(fits.attribute(p) for p in fits.NETWORKS),
    ],
    "sortableAttributes": ["created_at", "title"],
    "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "count"}},
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
    "pagination": {"maxTotalHits": 1000},
}
OBJECT_SETTINGS = {
    "searchableAttributes": ["title", "message", "campaign_name"],
    "filterableAttributes": ["campaign_id", "status", "platforms", "author_id", "scheduled_at"],
    "sortableAttributes": ["updated_at", "scheduled_at"],
}
INDEXES = {"media": ("media_assets", MEDIA_SETTINGS), "objects": ("content_objects", OBJECT_SETTINGS)}
# Our facet names -> the indexes' attributes.
FACETS = {
    "media": {"tags": "tags", "kind": "kind", "uploader": "uploader_id", "month": "created_month"},
    "objects": {"status": "status", "campaign": "campaign_id", "platform": "platforms"},
}
TEXTS = {"media": ("title", "description"), "objects": ("title", "message")}
SORTS = {
    "newest": "created_at:desc",
    "oldest": "created_at:asc",
    "title": "title:asc",
    "updated": "updated_at:desc",
    "scheduled": "scheduled_at:asc",
}
TASK_TIMEOUT_MS = 60_000  # workers and commands wait long (docs/external-apis.md §3.6)


class MeiliUnavailable(Exception):
    """The search could not be answered by Meilisearch in time: fall back."""


class TaskFailed(Exception):
    """A Meilisearch task ended otherwise than `succeeded` (its error code in `code`)."""

    def __init__(self, uid: int, status: str, error: dict | None):
        self.code = (error or {}).get("code", status)
        self.type = (error or {}).get("type")
        super().__init__(f"task {uid} {status}: {self.code}: {(error or {}).get('message', '')}")

    @property
    def transient(self) -> bool:
        return self.type in (None, "internal", "system")


def configured() -> bool:
    return bool(current_app.config.get("MEILI_URL"))


def index_uid(index: str) -> str:
    return current_app.config["MEILI_INDEX_PREFIX"] + INDEXES[index][0]


def client() -> meilisearch.Client:
    config = current_app.config
    return meilisearch.Client(config["MEILI_URL"], config.get("MEILI_API_KEY"), timeout=10)


def wait(admin: meilisearch.Client, task_uid: int, timeout_ms: int = TASK_TIMEOUT_MS) -> None:
    """Wait for a task and insist that it succeeded (`wait_for_task` does not)."""
    task = admin.wait_for_task(task_uid, timeout_in_ms=timeout_ms, interval_in_ms=50)
    if task.status != "succeeded":
        raise TaskFailed(task.uid, task.status, task.error)


def ensure_indexes(admin: meilisearch.Client | None = None) -> None:
    """Create both indexes with primary key `id` and apply their settings (idempotent)."""
    admin = admin or client()
    for index, (_, settings) in INDEXES.items():
        uid = index_uid(index)
        try:
            wait(admin, admin.create_index(uid, {"primaryKey": "id"}).task_uid)
        except TaskFailed as exc:
            if exc.code != "index_already_exists":
                raise
        primary_key = admin.get_index(uid).primary_key
        if primary_key != "id":
            raise RuntimeError(f"index {uid} has primary key {primary_key!r}, expected 'id'")
        wait(admin, admin.index(uid).update_settings(settings).task_uid)


def quote(value) -> str:
    """A filter value as a double-quoted string: backslashes and quotes escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any(attribute: str, values) -> str | None:
    """`attribute IN [...]`: ids (validated ints) as numbers, anything else quoted."""
    if not values:
        return None
    items = (str(int(v)) if isinstance(v, int) else quote(v) for v in values)
    return f"{attribute} IN [{', '.join(items)}]"


def filter_expression(request: SearchRequest, tz: str) -> str | None:
    f = request.filters
    if request.index == "media":
        parts = [
            _any("kind", f.kinds),
            _any("tags", f.tags),
            _any("uploader_id", f.uploader_ids),
            _any("status", f.statuses),
        ]
        zone = ZoneInfo(tz)
        if f.created_from:
            start = datetime.combine(f.created_from, time(), zone)
            parts.append(f"created_at >= {int(start.timestamp())}")
        if f.created_to:
            end = datetime.combine(f.created_to + timedelta(days=1), time(), zone)
            parts.append(f"created_at < {int(end.timestamp())}")
        # validated Platform values: the attribute names are ours, never the user's text
        parts += [f"{fits.attribute(Platform(network))} = true" for network in f.fits]
    else:
        parts = [
            _any("campaign_id", f.campaign_ids),
            _any("status", f.statuses),
            _any("platforms", f.platforms),
            _any("author_id", f.author_ids),
        ]
    return " AND ".join(part for part in parts if part) or None


_http_lock = threading.Lock()
_http_clients: dict[tuple, httpx.Client] = {}


def _http(budget_ms: int) -> httpx.Client:
    config = current_app.config
    key = (config["MEILI_URL"], config.get("MEILI_API_KEY"), budget_ms)
    with _http_lock:
        if key not in _http_clients:
            headers = {"Authorization": f"Bearer {key[1]}"} if key[1] else {}
            _http_clients[key] = httpx.Client(base_url=key[0], headers=headers, timeout=httpx.Timeout(budget_ms / 1000))
        return _http_clients[key]


def search(request: SearchRequest, tz: str, budget_ms: int) -> SearchResult:
    # matchingStrategy "all": every word must match, as in PostgreSQL (Meilisearch's default
    # would drop the last words), so both engines agree on what a query means.
    body = {
        "q": request.text,
        "offset": request.offset,
        "limit": request.limit,
        "matchingStrategy": "all",
        "attributesToRetrieve": ["id"],
    }
    if request.highlight:
        body.update(attributesToHighlight=list(TEXTS[request.index]), highlightPreTag=PRE, highlightPostTag=POST)
    expression = filter_expression(request, tz)
    if expression:
        body["filter"] = expression
    if request.sort in SORTS:
        body["sort"] = [SORTS[request.sort]]
    if request.facets:
        body["facets"] = list(FACETS[request.index].values())
        if request.index == "media":
            body["facets"] += [fits.attribute(p) for p in fits.NETWORKS]
    try:
        response = _http(budget_ms).post(f"/indexes/{index_uid(request.index)}/search", json=body)
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise MeiliUnavailable(f"{type(exc).__name__}: {exc}") from exc
    distribution = answer.get("facetDistribution") or {}
    facets = (
        {name: distribution.get(attribute, {}) for name, attribute in FACETS[request.index].items()}
        if request.facets
        else {}
    )
    if request.facets and request.index == "media":
        # One boolean attribute per network; the facet counts the files that fit each.
        counts = {p.value: distribution.get(fits.attribute(p), {}).get("true", 0) for p in fits.NETWORKS}
        facets["fits"] = dict(sorted(((v, n) for v, n in counts.items() if n), key=lambda i: (-i[1], i[0])))
    hits = []
    for hit in answer["hits"]:
        if not request.highlight:
            hits.append(Hit(id=int(hit["id"]), highlights={}))
            continue
        marked = hit.get("_formatted", {})
        title, *snippets = TEXTS[request.index]
        hits.append(
            Hit(
                id=int(hit["id"]),
                highlights={
                    title: to_html(marked.get(title)),
                    **{name: to_html(crop(marked.get(name))) for name in snippets},
                },
            )
        )
    return SearchResult(
        hits=hits,
        total=answer.get("estimatedTotalHits", 0),
        facets=facets,
        engine="meilisearch",
        page=request.page,
        per_page=request.limit,
    )


def health(budget_ms: int) -> bool:
    try:
        return _http(budget_ms).get("/health").status_code == 200
    except httpx.HTTPError:
        return False
