"""The renditions actor: on a queue of its own, so that decoding and encoding (seconds of CPU
per file) never delays publishing or callbacks; run it in its own worker pool (compose.yaml)."""
from app.tasks import actor


@actor(queue_name="renditions", max_retries=3, min_backoff=5_000, time_limit=2 * 3600_000,
       on_retry_exhausted="rendition_gave_up")
def make_rendition(rendition_id: int) -> None:
    """Make one rendition (a no-op once it is ready or failed). A storage error is retried by
    Dramatiq; what the file itself causes is recorded as the rendition's failure."""
    from app.renditions import service

    service.make(rendition_id)


@actor(queue_name="renditions", max_retries=0)
def rendition_gave_up(message: dict, retry_info: dict) -> None:
    """Dramatiq's word that `make_rendition` exhausted its retries: the rendition fails."""
    from app.renditions import service

    service.give_up(message["args"][0], "the file could not be read or the rendition stored "
                                        "(storage errors, several times)")
