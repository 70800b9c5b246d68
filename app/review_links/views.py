"""The editor's "Review links" block on a post page, and the public page an outside reviewer
opens (`/r/<token>`): its token is its proof (README, "Routes open without a login")."""

from flask import redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from app import versions, workflow
from app.campaigns import objects
from app.extensions import db
from app.models import LinkState, Role
from app.rendering import render
from app.review_links import bp, service
from app.review_links.forms import ChangesForm, DecisionForm, NewLinkForm
from app.reviews import chains, service as reviews
from app.security import public, role_required

# A refused token: unknown or altered (404, one answer for both), spent (410), post moved on (409).
REFUSAL_STATUS = {"invalid": 404, "revoked": 410, "used": 410, "expired": 410, "not_in_review": 409, "not_at_step": 409}
STATE_LABELS = {
    LinkState.ACTIVE: _l("active"),
    LinkState.USED: _l("used"),
    LinkState.EXPIRED: _l("expired"),
    LinkState.REVOKED: _l("revoked"),
}
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def _form(obj, **kwargs) -> NewLinkForm:
    """The new link's form; in a chain, its step (the one the post waits for, first)."""
    form = NewLinkForm(**kwargs)
    steps = chains.steps_of(obj.campaign_id)
    form.step.choices = [SelectChoice(step.id, step.name) for step in steps]
    if steps and not form.step.data:
        form.step.data = (chains.current_step(obj, steps) or steps[-1]).id
    return form


def _block(obj, *, form=None, created=None, status=200):
    return render(
        "review_links/manage.html",
        block="links",
        status=status,
        obj=obj,
        links=service.links_of(obj),
        form=form or _form(obj, formdata=None),
        can_create=obj.status in service.OPEN_STATUSES,
        created=created,
        state_labels=STATE_LABELS,
        steps={step.id: step.name for step in chains.steps_of(obj.campaign_id)},
    )


@bp.get("/posts/<int:object_id>/review-links")
@role_required(Role.EDITOR)
def manage(object_id):
    return _block(reviews.get_readable(object_id, current_user))


@bp.post("/posts/<int:object_id>/review-links")
@role_required(Role.EDITOR)
def create(object_id):
    obj = reviews.get_readable(object_id, current_user, lock=True)
    form = _form(obj)
    if not form.validate():
        return _block(obj, form=form, status=422)
    try:
        link, token = service.create(
            obj,
            by=current_user,
            name=form.name.data,
            email=form.email.data,
            days=form.days.data,
            step_id=form.step.data or None,
        )
    except service.LinkRefused:
        return _block(obj, form=form, status=409)
    db.session.commit()
    return _block(obj, created={"link": link, "url": url_for("review_links.open_link", token=token, _external=True)})


@bp.post("/posts/<int:object_id>/review-links/<int:link_id>/revoke")
@role_required(Role.EDITOR)
def revoke(object_id, link_id):
    obj = reviews.get_readable(object_id, current_user)
    link = service.get_link(obj, link_id)
    if link is not None:
        service.revoke(link, obj, by=current_user)
        db.session.commit()
    return _block(obj)


def _private(template, status, **context):
    """The reviewer's pages: never cached, never indexed (the URL is the key)."""
    body, status, headers = render(template, status=status, **context)
    return body, status, {**headers, **PRIVATE}


def _visit():
    return service.Visit(request.remote_addr, request.user_agent.string or "")


def _record_refusal(refused):
    """The opening of a known link is audited even when refused (an audit row, not a change of
    state: an unknown or altered token has nothing to record against and writes nothing)."""
    if refused.link is not None:
        service.record_open(refused.link, _visit(), refused.reason)
        db.session.commit()


def _refused(refused, status=None, token=None):
    done = refused.link is not None and session.get("review_link_decided") == refused.link.id
    return _private(
        "review_links/refused.html",
        200 if done else status or REFUSAL_STATUS[refused.reason],
        reason=refused.reason,
        link=refused.link,
        done=done,
        # the browser that approved may take it back for APPROVAL_UNDO_S, as an approver can
        undo=service.undo_offer(refused.link) if done and token else None,
        token=token,
    )


def _page(link, obj, form, status=200, undone=False):
    media = objects.media_of(obj)
    found = versions.versions(obj, media)  # each network's version, its own files included
    return _private(
        "review_links/review.html",
        status,
        link=link,
        obj=obj,
        form=form,
        media=media,
        media_urls=service.media_urls([*media, *(a for v in found.values() for a in v.media)]),
        checks=objects.checks(obj, media),
        versions=found,
        undone=undone,
    )


@bp.get("/r/<token>")
@public
def open_link(token):
    try:
        link, obj = service.resolve(token)
    except service.LinkRefused as refused:
        _record_refusal(refused)
        return _refused(refused, token=token)
    service.record_open(link, _visit(), "shown")
    db.session.commit()
    undone = session.pop("review_link_undone", None) == link.id
    return _page(link, obj, DecisionForm(formdata=None, name=link.decided_name or link.reviewer_name), undone=undone)


def _locked(token, resolve):
    """((link, post), None) locked, for a decision or an undo, or (None, the answer refusing it):
    too many attempts from this IP, or a token that may not do this (`resolve` says why)."""
    if service.throttled(request.remote_addr):
        return None, _private("review_links/refused.html", 429, reason="throttled", link=None, done=False)
    try:
        return resolve(token, lock=True), None
    except service.LinkRefused as refused:
        _record_refusal(refused)
        return None, _refused(refused, token=token)


def _decide(token, form, approve):
    found, refusal = _locked(token, service.resolve)
    if refusal is not None:
        return refusal
    link, obj = found
    if not form.validate():
        return _page(link, obj, form, status=422)
    try:
        service.decide(link, obj, approve=approve, name=form.name.data, comment=form.comment.data, visit=_visit())
    except (workflow.InvalidTransition, reviews.DecisionRefused):
        db.session.rollback()
        return _refused(service.LinkRefused("not_in_review"))
    db.session.commit()
    session["review_link_decided"] = link.id
    return redirect(url_for("review_links.open_link", token=token), 303)


@bp.post("/r/<token>/approve")
@public
def approve(token):
    return _decide(token, DecisionForm(), approve=True)


@bp.post("/r/<token>/changes")
@public
def request_changes(token):
    return _decide(token, ChangesForm(), approve=False)


@bp.post("/r/<token>/undo")
@public
def undo(token):
    """Take back an approval given through this link, from the browser that gave it, within
    APPROVAL_UNDO_S (docs/approval-chains.md, "Outside reviewers"); the link may decide again."""
    found, refusal = _locked(token, service.resolve_decided)
    if refusal is not None:
        return refusal
    link, obj = found
    if session.get("review_link_decided") != link.id:  # the token alone does not undo: it was shared
        db.session.rollback()
        return _refused(service.LinkRefused("used", link))
    try:
        service.undo(link, obj, visit=_visit())
    except reviews.UndoRefused as refused:
        db.session.rollback()
        return _private(
            "review_links/refused.html", 409, reason="undo_refused", message=str(refused), link=link, done=False
        )
    db.session.commit()
    session.pop("review_link_decided", None)
    session["review_link_undone"] = link.id
    return redirect(url_for("review_links.open_link", token=token), 303)
