"""Campaigns and their target accounts; every scenario status change goes through
`transition()`, which checks it, writes the audit event and queues the worker's part."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    CampaignStatus,
    ContentObject,
    ObjectStatus,
    ScenarioStatus,
    SocialAccount,
)
from app.models.base import utcnow
from app.platforms import service as accounts
from app.tasks import by_name, send_after_commit

provision_scenario, stop_scenario = by_name("provision_scenario"), by_name("stop_scenario")

S = ScenarioStatus
ALLOWED = {
    (S.PROVISIONING, S.READY),
    (S.PROVISIONING, S.FAILED),
    (S.PROVISIONING, S.STOPPED),
    (S.READY, S.STOPPED),
    (S.FAILED, S.STOPPED),
    (S.FAILED, S.PROVISIONING),
    (S.STOPPED, S.PROVISIONING),
}


class InvalidTransition(Exception):
    pass


def list_page(page: int, per_page: int = 50):
    return db.paginate(
        sa.select(Campaign).order_by(Campaign.status, Campaign.created_at.desc(), Campaign.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def get_or_404(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def get_scenario_or_404(campaign_id: int, scenario_id: int) -> CampaignScenario:
    scenario = db.session.get(CampaignScenario, scenario_id)
    if scenario is None or scenario.campaign_id != campaign_id:
        abort(404)
    return scenario


def scenarios_of(campaign: Campaign) -> list[CampaignScenario]:
    query = (
        sa.select(CampaignScenario)
        .join(SocialAccount)
        .options(joinedload(CampaignScenario.social_account))
        .where(CampaignScenario.campaign_id == campaign.id)
        .order_by(SocialAccount.platform, SocialAccount.label, CampaignScenario.id)
    )
    return list(db.session.scalars(query))


def reader_page(campaign: Campaign) -> dict:
    """What an approver reads of a campaign: its target accounts and the posts submitted to
    them (in review or decided since, never a draft: reviews.may_read), newest first, each
    with its media in order."""
    from app.reviews.service import media_by_object

    posts = list(
        db.session.scalars(
            sa.select(ContentObject)
            .where(ContentObject.campaign_id == campaign.id, ContentObject.status != ObjectStatus.DRAFT)
            .order_by(ContentObject.scheduled_at.desc().nulls_last(), ContentObject.id.desc())
        )
    )
    targets = [s.social_account for s in scenarios_of(campaign) if s.status is not S.STOPPED]
    return {"targets": targets, "posts": posts, "media": media_by_object([p.id for p in posts])}


def target_ids(campaign: Campaign) -> list[int]:
    """The accounts the campaign publishes to (a stopped scenario is a removed target)."""
    return [s.social_account_id for s in campaign.scenarios if s.status is not S.STOPPED]


def offered_accounts(campaign: Campaign | None = None) -> list[SocialAccount]:
    """Active accounts, plus the campaign's current targets even if deactivated since."""
    offered = accounts.active_accounts()
    if campaign is not None:
        known = {account.id for account in offered}
        offered += [
            s.social_account
            for s in campaign.scenarios
            if s.status is not S.STOPPED and s.social_account_id not in known
        ]
    return offered


def transition(scenario: CampaignScenario, to: ScenarioStatus, *, actor=None, error: str | None = None) -> None:
    """The one way a scenario's status changes: checked, audited, and the worker told."""
    if (scenario.status, to) not in ALLOWED:
        raise InvalidTransition(f"scenario {scenario.id}: {scenario.status} → {to}")
    audit.record(
        f"scenario_{to.value}",
        scenario,
        actor=actor,
        data={"from": scenario.status.value, "error": error} if error else {"from": scenario.status.value},
    )
    scenario.status, scenario.last_error = to, error
    if to is S.PROVISIONING:
        send_after_commit(db.session(), provision_scenario, scenario.id)
    elif to is S.STOPPED:
        send_after_commit(db.session(), stop_scenario, scenario.id)


def create_campaign(
    *,
    name: str,
    description: str,
    starts_on: date | None,
    ends_on: date | None,
    account_ids: list[int],
    actor,
    teams_webhook_url: str = "",
) -> Campaign:
    campaign = Campaign(
        name=name.strip(),
        description=description or "",
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=getattr(actor, "id", None),
        teams_webhook_url=teams_webhook_url or None,
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record("campaign_created", campaign, actor=actor, data={"accounts": account_ids})
    _set_targets(campaign, account_ids, actor=actor)
    return campaign


def update_campaign(
    campaign: Campaign,
    *,
    name: str,
    description: str,
    starts_on: date | None,
    ends_on: date | None,
    account_ids: list[int],
    actor,
    teams_webhook_url: str = "",
) -> None:
    _require_active(campaign)
    values = {
        "name": name.strip(),
        "description": description or "",
        "starts_on": starts_on,
        "ends_on": ends_on,
        "teams_webhook_url": teams_webhook_url or None,
    }
    changed = {key: value for key, value in values.items() if getattr(campaign, key) != value}
    for key, value in changed.items():
        setattr(campaign, key, value)
    if changed:
        audit.record(
            "campaign_updated",
            campaign,
            actor=actor,
            data={
                key: "(secret)" if key == "teams_webhook_url" and value else str(value)
                for key, value in changed.items()
            },
        )
    _set_targets(campaign, account_ids, actor=actor)


def archive_campaign(campaign: Campaign, *, actor) -> None:
    _require_active(campaign)
    campaign.status, campaign.archived_at = CampaignStatus.ARCHIVED, utcnow()
    audit.record("campaign_archived", campaign, actor=actor)
    for scenario in campaign.scenarios:
        if scenario.status is not S.STOPPED:
            transition(scenario, S.STOPPED, actor=actor)


def retry_scenario(scenario: CampaignScenario, *, actor) -> None:
    """Start the provisioning over; the Make ids are found again by name, so nothing doubles."""
    _require_active(scenario.campaign)
    transition(scenario, S.PROVISIONING, actor=actor)
    scenario.make_hook_id = scenario.make_hook_udid = scenario.webhook_url = None
    scenario.make_scenario_id = scenario.make_template_id = None


def _set_targets(campaign: Campaign, account_ids: list[int], *, actor) -> None:
    existing = {s.social_account_id: s for s in campaign.scenarios}
    for account_id in account_ids:
        scenario = existing.get(account_id)
        if scenario is None:
            scenario = CampaignScenario(campaign=campaign, social_account_id=account_id, status=S.PROVISIONING)
            db.session.add(scenario)
            db.session.flush()
            audit.record("scenario_provisioning", scenario, actor=actor, data={"from": None})
            send_after_commit(db.session(), provision_scenario, scenario.id)
        elif scenario.status is S.STOPPED:
            transition(scenario, S.PROVISIONING, actor=actor)
    for account_id, scenario in existing.items():
        if account_id not in account_ids and scenario.status is not S.STOPPED:
            transition(scenario, S.STOPPED, actor=actor)


def _require_active(campaign: Campaign) -> None:
    if campaign.status is CampaignStatus.ARCHIVED:
        raise InvalidTransition(f"campaign {campaign.id} is archived")
