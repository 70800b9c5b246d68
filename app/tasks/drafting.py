"""Message drafting actor: one call to N8N per click (app.campaigns.drafting)."""

from app.campaigns import drafting
from app.tasks import actor


@actor(queue_name="drafts", max_retries=0, time_limit=120_000)
def draft_message(campaign_id: int, request_id: str, context: dict) -> None:
    """No retry: the editor is waiting and can click again; the outcome is stored either way."""
    drafting.run(campaign_id, request_id, context)
