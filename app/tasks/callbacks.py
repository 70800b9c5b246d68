"""Callback actor: applies recorded Make callbacks (app.publishing.results; safe twice)."""
from app.publishing import results
from app.tasks import actor


@actor(queue_name="callbacks", max_retries=5, min_backoff=500, max_backoff=30_000)
def apply_callbacks(event_ids: list[int]) -> None:
    """Each event in its own short transaction. A failure leaves that event and the next ones
    pending: the retry skips those already applied, and the relay hands over again whatever is
    still pending once the retries are spent."""
    for event_id in event_ids:
        results.apply(event_id)
