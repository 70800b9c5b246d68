"""Publication actors: thin wrappers over app.publishing (safe to run twice)."""

from app.publishing import sender
from app.tasks import actor


@actor(max_retries=0, queue_name="publish")
def publish(publication_id: int) -> None:
    """Send one publication; retries are scheduled in the outbox, not in the broker."""
    sender.send(publication_id)
