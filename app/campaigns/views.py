from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.campaigns import bp, service
from app.campaigns.forms import CampaignForm
from app.extensions import db
from app.models import CampaignStatus, Role
from app.rendering import fragment_or_redirect, render
from app.security import role_required


def _values(form: CampaignForm) -> dict:
    return {
        "name": form.name.data,
        "description": form.description.data,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "account_ids": form.accounts.data or [],
        "teams_webhook_url": (form.teams_webhook_url.data or "").strip(),
    }


def _form_page(form, campaign=None, status=200):
    return render(
        "campaigns/form.html", form=form, campaign=campaign, accounts=service.offered_accounts(campaign), status=status
    )


def _scenario_row(scenario, status=200):
    return fragment_or_redirect(
        "campaigns/show.html",
        "scenario_row",
        url_for("campaigns.show", campaign_id=scenario.campaign_id),
        status=status,
        scenario=scenario,
    )


@bp.get("/")
@role_required(Role.EDITOR)
def index():
    page = service.list_page(request.args.get("page", 1, type=int))
    return render("campaigns/index.html", block="listing", page=page)


@bp.get("/new")
@role_required(Role.EDITOR)
def new():
    return _form_page(CampaignForm().set_accounts(service.offered_accounts()))


@bp.post("/")
@role_required(Role.EDITOR)
def create():
    form = CampaignForm().set_accounts(service.offered_accounts())
    if not form.validate():
        return _form_page(form, status=422)
    campaign = service.create_campaign(**_values(form), actor=current_user)
    db.session.commit()
    return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)


@bp.get("/<int:campaign_id>")
@role_required(Role.EDITOR, Role.APPROVER)
def show(campaign_id):
    """Editors manage the campaign here; approvers read it: its targets and the posts submitted
    to them (reviews.may_read), without drafts or controls."""
    campaign = service.get_or_404(campaign_id)
    if not current_user.has_role(Role.EDITOR):
        return render(
            "campaigns/show.html",
            campaign=campaign,
            readonly=True,
            editable=campaign.status is CampaignStatus.ACTIVE,
            **service.reader_page(campaign),
        )
    return render(
        "campaigns/show.html",
        block="scenarios",
        campaign=campaign,
        scenarios=service.scenarios_of(campaign),
        editable=campaign.status is CampaignStatus.ACTIVE,
    )


@bp.get("/<int:campaign_id>/edit")
@role_required(Role.EDITOR)
def edit(campaign_id):
    campaign = _active_or_409(campaign_id)
    form = CampaignForm(obj=campaign, accounts=service.target_ids(campaign))
    return _form_page(form.set_accounts(service.offered_accounts(campaign)), campaign)


@bp.post("/<int:campaign_id>")
@role_required(Role.EDITOR)
def update(campaign_id):
    campaign = _active_or_409(campaign_id)
    form = CampaignForm().set_accounts(service.offered_accounts(campaign))
    if not form.validate():
        return _form_page(form, campaign, status=422)
    service.update_campaign(campaign, **_values(form), actor=current_user)
    db.session.commit()
    return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)


@bp.post("/<int:campaign_id>/archive")
@role_required(Role.EDITOR)
def archive(campaign_id):
    campaign = _active_or_409(campaign_id)
    service.archive_campaign(campaign, actor=current_user)
    db.session.commit()
    return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)


@bp.get("/<int:campaign_id>/scenarios/<int:scenario_id>")
@role_required(Role.EDITOR)
def scenario_row(campaign_id, scenario_id):
    """Polled while provisioning runs; 286 tells htmx to stop once the status has settled."""
    scenario = service.get_scenario_or_404(campaign_id, scenario_id)
    return _scenario_row(scenario, status=286 if scenario.settled else 200)


@bp.post("/<int:campaign_id>/scenarios/<int:scenario_id>/retry")
@role_required(Role.EDITOR)
def retry_scenario(campaign_id, scenario_id):
    scenario = service.get_scenario_or_404(campaign_id, scenario_id)
    try:
        service.retry_scenario(scenario, actor=current_user)
    except service.InvalidTransition:
        abort(409)
    db.session.commit()
    return _scenario_row(scenario)


def _active_or_409(campaign_id: int):
    campaign = service.get_or_404(campaign_id)
    if campaign.status is not CampaignStatus.ACTIVE:
        abort(409)  # an archived campaign is read-only
    return campaign
