from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import versions, workflow
from app.extensions import db
from app.models import Role
from app.rendering import fragment_or_redirect, render, wants_fragment
from app.reviews import bp, chains, service
from app.reviews.forms import ChangesForm
from app.security import role_required


@bp.get("/")
@role_required(Role.APPROVER)
def index():
    page = service.queue_page(request.args.get("page", 1, type=int), user=current_user)
    chains.preload({obj.campaign_id for obj in page.items})  # one query for the chain positions
    return render(
        "reviews/index.html",
        block="listing",
        page=page,
        form=ChangesForm(),
        **_cards(page.items),
        recent=service.recent_approval(current_user),
    )


def _cards(objs) -> dict:
    """What each card shows: its target accounts, its base media and each network's version
    (app/versions.py), in a few queries whatever the number of cards."""
    ids = [obj.id for obj in objs]
    targets, media = service.targets_by_object(ids), service.media_by_object(ids)
    platforms = {object_id: [account.platform for account in accounts] for object_id, accounts in targets.items()}
    return {"targets": targets, "media": media, "versions": versions.by_object(objs, platforms, media)}


def _waiting():
    """The queue's count, sent with each htmx answer out of band (templates/reviews/_count.html):
    the heading follows the decisions, down to the empty state when the last card goes."""
    return service.queue_count(current_user) if wants_fragment() else None


def _decided(obj, message, status=200, undo=None):
    """htmx swaps the card for the outcome (with the undo bar after an approval); without
    JavaScript, back to the queue, whose flash offers the same undo."""
    return fragment_or_redirect(
        "reviews/index.html",
        "decided",
        url_for("reviews.index"),
        message=message,
        category="success" if status == 200 else "error",
        status=status,
        obj=obj,
        outcome=message,
        undo=undo,
        waiting=_waiting(),
    )


def _refused_card(obj, form):
    """A comment refused: htmx re-renders the card with the error and what was typed; without
    JavaScript the queue comes back with that card first, open on the same error (422 both)."""
    if wants_fragment():
        return render("reviews/index.html", block="card", status=422, obj=obj, form=form, **_cards([obj]))
    page = service.queue_page(1, user=current_user)
    if obj not in page.items:
        page.items = [obj, *page.items]
    return render(
        "reviews/index.html",
        status=422,
        page=page,
        form=ChangesForm(formdata=None),
        refused={obj.id: form},
        **_cards(page.items),
    )


@bp.post("/<int:object_id>/approve")
@role_required(Role.APPROVER)
def approve(object_id):
    obj = service.get_for_review(object_id, current_user)
    try:
        approval = service.approve(obj, by=current_user)
    except workflow.InvalidTransition:
        db.session.rollback()
        return _decided(obj, _("This post was already handled by someone else."), status=409)
    except service.DecisionRefused as refused:
        db.session.commit()  # nothing decided; a chain restarted because the post changed is kept
        return _decided(obj, str(refused), status=403)
    db.session.commit()
    if isinstance(approval, service.StepOutcome):
        return _decided(
            obj,
            _(
                "Step “%(step)s” approved: “%(title)s” now waits for “%(next)s”.",
                step=approval.step.name,
                title=obj.title,
                next=approval.next_step.name,
            ),
            undo=service.undo_offer(obj, approval.approval),
        )
    return _decided(
        obj, _("Approved: “%(title)s” will be published.", title=obj.title), undo=service.undo_offer(obj, approval)
    )


@bp.post("/<int:object_id>/undo")
@role_required(Role.APPROVER)
def undo_approval(object_id):
    """The undo bar's button: the post comes back to the queue, as its card (htmx) or in the
    queue's page; after the window, or for someone else's approval, 409 says why."""
    obj = service.get_for_review(object_id, current_user)
    try:
        service.undo_approval(obj, by=current_user)
    except service.UndoRefused as refused:
        db.session.rollback()
        return _decided(obj, str(refused), status=409)
    db.session.commit()
    notice = _("Approval undone: “%(title)s” is back in the queue and nothing was sent.", title=obj.title)
    return fragment_or_redirect(
        "reviews/index.html",
        "card",
        url_for("reviews.index"),
        message=notice,
        category="success",
        obj=obj,
        form=ChangesForm(formdata=None),
        notice=notice,
        waiting=_waiting(),
        **_cards([obj]),
    )


@bp.post("/<int:object_id>/changes")
@role_required(Role.APPROVER)
def request_changes(object_id):
    obj = service.get_for_review(object_id, current_user)
    form = ChangesForm()
    if not form.validate():
        return _refused_card(obj, form)
    try:
        service.request_changes(obj, by=current_user, comment=form.comment.data)
    except workflow.InvalidTransition:
        db.session.rollback()
        return _decided(obj, _("This post was already handled by someone else."), status=409)
    except service.DecisionRefused as refused:
        db.session.commit()  # nothing decided; a chain restarted because the post changed is kept
        return _decided(obj, str(refused), status=403)
    db.session.commit()
    return _decided(obj, _("Changes requested on “%(title)s”. The editor has your comment.", title=obj.title))


@bp.get("/objects/<int:object_id>/history")
@role_required(Role.EDITOR, Role.APPROVER)
def history(object_id):
    obj = service.get_readable(object_id, current_user)
    return render("reviews/history.html", obj=obj, events=service.history(obj), deliveries=service.deliveries(obj))


@bp.get("/objects/<int:object_id>/previews")
@role_required(Role.EDITOR, Role.APPROVER)
def previews(object_id):
    """The per-network previews of a post: loaded into its review card when the approver opens
    them (htmx), a page of their own when the link is opened directly."""
    from app.campaigns import objects

    obj = service.get_readable(object_id, current_user)
    media = objects.media_of(obj)
    return render("reviews/previews.html", block="previews", obj=obj, media=media, checks=objects.checks(obj, media))
