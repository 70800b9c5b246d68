"""The renditions actor: on a queue of its own, so that decoding and encoding (seconds of CPU
per file) never delays publishing or callbacks; run it in its own worker pool (compose.yaml)."""

from app.tasks import actor


def retry_rendition(retries: int, exc: BaseException) -> bool:
    """A storage that does not answer (a Graph outage, a 429 or 503 after the client's own
    retries, which wait as Retry-After says) is retried as long as it lasts: the rendition stays
    pending and a publication waiting for it waits. Any other error, three times."""
    from app.storage import StorageUnavailable

    return isinstance(exc, StorageUnavailable) or retries < 3


# The backoff stops growing at 5 minutes, under RENDITION_TIMEOUT_S + 60 s: `requeue_if_stale`
# sees a rendition retried this way as touched and does not queue it a second time.
@actor(
    queue_name="renditions",
    retry_when=retry_rendition,
    min_backoff=5_000,
    max_backoff=5 * 60_000,
    time_limit=2 * 3600_000,
    on_retry_exhausted="rendition_gave_up",
)
def make_rendition(rendition_id: int) -> None:
    """Make one rendition (a no-op once it is ready or failed). A storage error is retried by
    Dramatiq (`retry_rendition`); what the file itself causes is recorded as the rendition's
    failure."""
    from app.renditions import service

    service.make(rendition_id)


@actor(queue_name="renditions", max_retries=0)
def rendition_gave_up(message: dict, retry_info: dict) -> None:
    """Dramatiq's word that `make_rendition` exhausted its retries: the rendition fails."""
    from app.renditions import service

    service.give_up(
        message["args"][0], "the file could not be read or the rendition stored (storage errors, several times)"
    )
