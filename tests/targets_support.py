"""A publishing target for tests: a social account and its ready scenario in a campaign."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.models import Campaign, CampaignScenario, Platform, SocialAccount


def add_target(
    campaign: Campaign, platform: Platform, label: str, *, connection: int = 77, webhook_url: str | None = None
) -> int:
    """The new scenario's id (call inside an app context; flushed, not committed)."""
    account = SocialAccount(
        platform=platform, label=label, make_connection_id=connection, account_identifier=str(uuid.uuid4().int % 10**12)
    )
    db.session.add(account)
    db.session.flush()
    scenario = CampaignScenario(
        campaign=campaign, social_account_id=account.id, status="ready", webhook_url=webhook_url
    )
    db.session.add(scenario)
    db.session.flush()
    return scenario.id
