"""Callback actor: applies one recorded Make callback (app.publishing.results; safe twice)."""
from app.publishing import results
from app.tasks import actor


@actor(queue_name="callbacks", max_retries=5, min_backoff=500, max_backoff=30_000)
def apply_callback(event_id: int) -> None:
    """A failed run leaves the event pending: retried here, and re-enqueued by the scheduler
    once the retries are spent."""
    results.apply(event_id)
