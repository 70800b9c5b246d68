"""A campaign's approval chain, edited by editors and admins (who edit campaigns,
app/security.py): add, order and remove steps, choose their approvers and rule, and whether
approvals expire at the scheduled moment (docs/approval-chains.md)."""

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app import audit
from app.extensions import db
from app.models import ApprovalSettings, ApprovalStep, Campaign, ContentObject, ObjectStatus, Role, User
from app.rendering import render
from app.reviews import bp, chains
from app.reviews.forms import ChainSettingsForm, StepForm
from app.security import role_required


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        abort(404)
    return campaign


def _candidates() -> list[User]:
    """Who may be named on a step: active approvers and admins (the queue is theirs)."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.active, User.role.in_([Role.APPROVER, Role.ADMIN])).order_by(User.name)
        )
    )


def _form(step: ApprovalStep | None = None, **kwargs) -> StepForm:
    form = StepForm(prefix=f"step{step.id}" if step else "new", **kwargs)
    form.users.choices = [SelectChoice(user.id, user.name) for user in _candidates()]
    if step is not None and "formdata" in kwargs:
        form.name.data, form.rule.data = step.name, step.rule.value
        form.role.data, form.users.data = step.role.value if step.role else "", [user.id for user in step.users]
    return form


def _page(campaign: Campaign, *, new=None, failed=None, status=200):
    steps = chains.steps_of(campaign.id)
    forms = {
        step.id: failed if failed is not None and failed.prefix == f"step{step.id}" else _form(step, formdata=None)
        for step in steps
    }
    settings = ChainSettingsForm(formdata=None, expires_at_schedule=chains.settings_of(campaign.id).expires_at_schedule)
    return render(
        "reviews/chain.html",
        status=status,
        campaign=campaign,
        steps=steps,
        forms=forms,
        new=new or _form(formdata=None),
        settings=settings,
        max_steps=chains.MAX_STEPS,
    )


def _changed(campaign: Campaign, action: str, message: str, **data):
    """Record the change, and put the posts in review at their step of the new chain."""
    audit.record(action, campaign, actor=current_user, data=data)
    db.session.flush()
    for obj in db.session.scalars(
        sa.select(ContentObject).where(
            ContentObject.campaign_id == campaign.id, ContentObject.status == ObjectStatus.IN_REVIEW
        )
    ):
        chains.sync(obj)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("reviews.chain", campaign_id=campaign.id) + "#chain-steps", 303)


def _apply(step: ApprovalStep, form: StepForm) -> None:
    from app.models import StepRule

    step.name, step.rule = form.name.data.strip(), StepRule(form.rule.data)
    step.role = Role(form.role.data) if form.role.data else None
    allowed = {user.id: user for user in _candidates()}
    step.users = [allowed[user_id] for user_id in form.users.data if user_id in allowed]


@bp.get("/campaigns/<int:campaign_id>/chain")
@role_required(Role.EDITOR)
def chain(campaign_id):
    return _page(_campaign(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/chain/steps")
@role_required(Role.EDITOR)
def add_step(campaign_id):
    campaign = _campaign(campaign_id)
    form = _form()
    steps = chains.steps_of(campaign.id)
    if len(steps) >= chains.MAX_STEPS:
        form.name.errors = [_("A chain has at most %(max)d steps.", max=chains.MAX_STEPS)]
        return _page(campaign, new=form, status=422)
    if not form.validate():
        return _page(campaign, new=form, status=422)
    step = ApprovalStep(campaign_id=campaign.id, position=(steps[-1].position + 1) if steps else 0)
    _apply(step, form)
    db.session.add(step)
    db.session.flush()
    return _changed(
        campaign, "approval_step_added", _("Step “%(name)s” added.", name=step.name), step=step.id, name=step.name
    )


def _step(campaign: Campaign, step_id: int) -> ApprovalStep:
    step = db.session.get(ApprovalStep, step_id)
    if step is None or step.campaign_id != campaign.id:
        abort(404)
    return step


@bp.post("/campaigns/<int:campaign_id>/chain/steps/<int:step_id>")
@role_required(Role.EDITOR)
def update_step(campaign_id, step_id):
    campaign = _campaign(campaign_id)
    step = _step(campaign, step_id)
    form = _form(step)
    if not form.validate():
        return _page(campaign, failed=form, status=422)
    _apply(step, form)
    return _changed(
        campaign,
        "approval_step_changed",
        _("Step “%(name)s” saved.", name=step.name),
        step=step.id,
        name=step.name,
        rule=step.rule.value,
        role=step.role and step.role.value,
        users=[user.id for user in step.users],
    )


@bp.post("/campaigns/<int:campaign_id>/chain/steps/<int:step_id>/delete")
@role_required(Role.EDITOR)
def delete_step(campaign_id, step_id):
    campaign = _campaign(campaign_id)
    step = _step(campaign, step_id)
    name = step.name
    db.session.delete(step)
    return _changed(
        campaign, "approval_step_removed", _("Step “%(name)s” removed.", name=name), step=step_id, name=name
    )


@bp.post("/campaigns/<int:campaign_id>/chain/steps/<int:step_id>/<any(up, down):direction>")
@role_required(Role.EDITOR)
def move_step(campaign_id, step_id, direction):
    campaign = _campaign(campaign_id)
    step = _step(campaign, step_id)
    steps = chains.steps_of(campaign.id)
    index = steps.index(step)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(steps):
        steps[index], steps[other] = steps[other], steps[index]
    for position, each in enumerate(steps):
        each.position = position
    return _changed(
        campaign, "approval_step_moved", _("Step “%(name)s” moved.", name=step.name), order=[each.id for each in steps]
    )


@bp.post("/campaigns/<int:campaign_id>/chain/settings")
@role_required(Role.EDITOR)
def chain_settings(campaign_id):
    campaign = _campaign(campaign_id)
    form = ChainSettingsForm()
    if not form.validate():
        return _page(campaign, status=422)
    settings = db.session.get(ApprovalSettings, campaign.id)
    if settings is None:
        settings = ApprovalSettings(campaign_id=campaign.id)
        db.session.add(settings)
    settings.expires_at_schedule = bool(form.expires_at_schedule.data)
    return _changed(
        campaign,
        "approval_settings_changed",
        _("Approval settings saved."),
        expires_at_schedule=settings.expires_at_schedule,
    )


@bp.app_template_global("chain_position")
def chain_position(obj):
    """ "Step 2/2: Legal — waiting for Marie, Paul" for a post in review in a chain, else None
    (the post page, the board card and the review card show it)."""
    return chains.position_label(obj)
