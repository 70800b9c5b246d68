"""Callback actor: applies recorded Make callbacks (app.publishing.results; safe twice)."""

from app.publishing import results
from app.tasks import actor


@actor(queue_name="callbacks", max_retries=5, min_backoff=500, max_backoff=30_000)
def apply_callbacks(event_ids: list[int]) -> None:
    """Each event in its own short transaction. An event that cannot apply counts a failed
    attempt and leaves the others alone (app.publishing.results); the relay hands it over again
    until it applies or is set aside. Only an outage (the database gone) ends the batch early:
    the retry skips the events already applied."""
    for event_id in event_ids:
        results.apply(event_id)
