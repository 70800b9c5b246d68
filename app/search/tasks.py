"""Search actors: keep Meilisearch in sync with the database (thin, safe to run twice).

Messages carry ids only; each run reads the rows as they are now, so a repeated or late
message just writes the current state again. Transient failures (connection, 5xx, 429,
internal task errors) are retried with back-off; permanent ones (other 4xx, invalid
documents) are not: `flask search check` will show what they left behind.
"""

from __future__ import annotations

from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from app.tasks import actor

MAX_ATTEMPTS = 6


def transient(retries: int, exc: BaseException) -> bool:
    from app.search.meili import TaskFailed

    if retries >= MAX_ATTEMPTS:
        return False
    if isinstance(exc, (MeilisearchCommunicationError, MeilisearchTimeoutError)):
        return True
    if isinstance(exc, MeilisearchApiError):
        return exc.status_code in (429, 500, 502, 503, 504)
    return isinstance(exc, TaskFailed) and exc.transient


@actor(queue_name="search", retry_when=transient, min_backoff=1_000, max_backoff=60_000)
def sync_media(ids: list[int]) -> None:
    """Upsert or delete these media assets in the Meilisearch index."""
    from app.search import indexing

    indexing.sync("media", ids)


@actor(queue_name="search", retry_when=transient, min_backoff=1_000, max_backoff=60_000)
def sync_objects(ids: list[int]) -> None:
    """Upsert or delete these content objects in the Meilisearch index."""
    from app.search import indexing

    indexing.sync("objects", ids)


SYNC_ACTORS = {"media": sync_media, "objects": sync_objects}
