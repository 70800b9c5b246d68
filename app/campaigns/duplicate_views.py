"""Duplicate a post (app/campaigns/duplicate.py): the small form that chooses the campaign."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns import bp, duplicate as duplicating, objects, service
from app.extensions import db
from app.labels import platform_label
from app.models import Campaign, CampaignStatus, Role
from app.rendering import render
from app.security import role_required


def _page(campaign, obj, chosen, error=None, status=200):
    return render(
        "campaigns/duplicate.html",
        campaign=campaign,
        obj=obj,
        chosen=chosen,
        error=error,
        destinations=duplicating.destinations(),
        status=status,
    )


@bp.get("/<int:campaign_id>/objects/<int:object_id>/duplicate")
@role_required(Role.EDITOR)
def duplicate_object(campaign_id, object_id):
    campaign = service.get_or_404(campaign_id)
    obj = objects.get_or_404(campaign, object_id)
    return _page(campaign, obj, campaign.id if campaign.status is CampaignStatus.ACTIVE else None)


@bp.post("/<int:campaign_id>/objects/<int:object_id>/duplicate")
@role_required(Role.EDITOR)
def duplicate_object_post(campaign_id, object_id):
    campaign = service.get_or_404(campaign_id)
    obj = objects.get_or_404(campaign, object_id)
    chosen = request.form.get("campaign_id", type=int)
    destination = db.session.get(Campaign, chosen) if chosen else None
    if destination is None or destination.status is not CampaignStatus.ACTIVE:
        return _page(campaign, obj, None, _("Choose an active campaign to copy the post into."), status=422)
    done = duplicating.duplicate(obj, destination, actor=current_user)
    db.session.commit()
    message = (
        _("Copy saved as a draft in “%(campaign)s”.", campaign=destination.name)
        if destination.id != campaign.id
        else _("Copy saved as a draft.")
    )
    if done.dropped:
        message += " " + _(
            "Not kept, the campaign does not publish to them: %(accounts)s.",
            accounts=", ".join(f"{platform_label(account.platform)} — {account.label}" for account in done.dropped),
        )
    flash(message, "info" if done.dropped else "success")
    return redirect(url_for("campaigns.show_object", campaign_id=destination.id, object_id=done.copy.id), 303)
