"""Content objects of a campaign and its board (editors)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user

from app import text_count, workflow
from app.campaigns import bp, composer, drafting, objects, service
from app.campaigns import board as boards
from app.comments import service as comments
from app.campaigns.object_forms import ObjectForm
from app.extensions import db
from app.models import CampaignStatus, ObjectStatus, Platform, Role
from app.publishing import control
from app.reviews import chains, service as reviews
from app.rendering import render, wants_fragment
from app.security import role_required


def _active(campaign_id: int):
    campaign = service.get_or_404(campaign_id)
    if campaign.status is not CampaignStatus.ACTIVE:
        abort(409)  # an archived campaign is read-only
    return campaign


def _form_page(campaign, form, obj=None, media=None, errors=(), status=200, versions=None):
    """The post form: the base, a tab per network of the campaign (app/campaigns/composer.py
    lists its fields) and the live preview beside it."""
    scenarios = objects.offered_scenarios(campaign, obj)
    platforms = composer.offered_platforms(scenarios)
    if versions is None:
        versions = composer.from_saved(obj, platforms) if obj else composer.blank(platforms)
    versions = {**composer.blank(platforms), **versions}
    ticked = composer.ticked_platforms(scenarios, form.targets.data or [])
    opened = next((p.value for p in ticked if versions[p].invalid), "base")
    return render(
        "campaigns/object_form.html",
        campaign=campaign,
        form=form.set_targets(scenarios),
        obj=obj,
        scenarios=scenarios,
        media_ids=media or [],
        noscript_media=objects.media_choices(media or []),
        media_errors=errors,
        drafting=drafting.enabled(),
        status=status,
        platforms=platforms,
        versions=versions,
        ticked=ticked,
        opened=opened,
        preview_platform=(ticked[0].value if ticked else ""),
        version_media=composer.media_of(versions, media or []),
        **(comments.context(obj) if obj else {}),
    )


def _chosen_media() -> list[int]:
    """The files as the form sent them: the picker's ordered `media_ids`, or, from a browser
    without JavaScript, the boxes ticked in the list shown instead (`media_choice=noscript`,
    campaigns/object_form.html)."""
    field = "media_ids_noscript" if request.form.get("media_choice") == "noscript" else "media_ids"
    return request.form.getlist(field, type=int)


def _values(form: ObjectForm, media: list[int]) -> dict:
    return {
        "title": form.title.data,
        "message": form.message.data,
        "link": form.link.data,
        "media": media,
        "targets": form.targets.data or [],
        "scheduled_at": form.scheduled_utc(),
    }


def _parse(campaign, obj=None):
    """The form as sent: the base, its usable media and their problems, each network's tab, and
    whether all of it is valid. The ticked networks' tabs are the ones checked and saved."""
    scenarios = objects.offered_scenarios(campaign, obj)
    form = ObjectForm().set_targets(scenarios)
    media, errors = objects.usable_media(_chosen_media())
    valid = form.validate()
    ticked = composer.ticked_platforms(scenarios, form.targets.data or [])
    versions = composer.parse(request.form, composer.offered_platforms(scenarios))
    valid = valid and not errors and not any(versions[p].invalid for p in ticked if p in versions)
    return form, media, errors, valid, versions, ticked


@bp.get("/<int:campaign_id>/objects/new")
@role_required(Role.EDITOR)
def new_object(campaign_id):
    return _form_page(_active(campaign_id), ObjectForm())


@bp.post("/<int:campaign_id>/objects")
@role_required(Role.EDITOR)
def create_object(campaign_id):
    """Save a new post: the base fields (ObjectForm) and, per ticked network, its tab
    (`version-<p>`, `version-<p>-follow-message`, `version-<p>-message`, `version-<p>-link-mode`,
    `version-<p>-link`, `version-<p>-media-mode`, `version-<p>-media`, `options-<p>-<name>`:
    app/campaigns/composer.py says what each means). A refused form comes back as typed (422)."""
    campaign = _active(campaign_id)
    form, media, errors, valid, versions, ticked = _parse(campaign)
    if not valid:
        return _form_page(
            campaign,
            form,
            media=_chosen_media(),
            errors=errors,
            status=422,
            versions=versions,
        )
    obj = objects.create_object(campaign, **_values(form, media), actor=current_user)
    composer.save(obj, versions, ticked, actor=current_user)
    db.session.commit()
    return _to_object(campaign, obj, _("Post saved as a draft."))


@bp.get("/<int:campaign_id>/objects/<int:object_id>")
@role_required(Role.EDITOR)
def show_object(campaign_id, object_id):
    campaign = service.get_or_404(campaign_id)
    obj = objects.get_or_404(campaign, object_id)
    return _object_page(campaign, obj)


def _object_page(campaign, obj):
    media = objects.media_of(obj)
    return render(
        "campaigns/object.html",
        block="object",
        campaign=campaign,
        obj=obj,
        media=media,
        checks=objects.checks(obj, media),
        live=boards.live_links(obj.id),
        editable=obj.status in objects.EDITABLE and campaign.status is CampaignStatus.ACTIVE,
        can_submit=obj.status in objects.SUBMITTABLE and campaign.status is CampaignStatus.ACTIVE,
        deliveries=control.deliveries(obj),
        controls=control.available(obj) if campaign.status is CampaignStatus.ACTIVE else {},
        **comments.context(obj),
    )


@bp.get("/<int:campaign_id>/objects/<int:object_id>/edit")
@role_required(Role.EDITOR)
def edit_object(campaign_id, object_id):
    campaign = _active(campaign_id)
    obj = objects.get_or_404(campaign, object_id)
    if obj.status not in objects.EDITABLE:
        abort(409)
    form = ObjectForm(obj=obj, targets=objects.target_ids(obj)).set_schedule(obj.scheduled_at)
    return _form_page(campaign, form, obj, media=objects.media_ids(obj))


@bp.post("/<int:campaign_id>/objects/<int:object_id>")
@role_required(Role.EDITOR)
def update_object(campaign_id, object_id):
    """Save an edit: the base and the ticked networks' tabs (the fields of `create_object`). A
    change to either sends an approved or scheduled post back to review."""
    campaign = _active(campaign_id)
    obj = objects.get_or_404(campaign, object_id, lock=True)
    form, media, errors, valid, versions, ticked = _parse(campaign, obj)
    if not valid:
        return _form_page(
            campaign,
            form,
            obj,
            media=_chosen_media(),
            errors=errors,
            status=422,
            versions=versions,
        )
    try:
        reopened = obj.status in objects.REOPENED_BY_EDIT
        changed = objects.update_object(obj, **_values(form, media), actor=current_user)
    except objects.NotEditable:
        abort(409)
    if composer.save(obj, versions, ticked, actor=current_user):
        changed = True
        db.session.flush()
        if obj.status in objects.REOPENED_BY_EDIT:  # not sent back by a change of the base
            reviews.reopen_after_change([obj.id], by=current_user, reason=str(_l("Edited after approval")))
        elif obj.status is ObjectStatus.IN_REVIEW:  # as objects.update_object does (docs/approval-chains.md)
            chains.after_edit(obj, by=current_user)
    db.session.commit()
    message = (
        _("Post saved: it goes back to review.")
        if changed and reopened
        else _("Post saved.")
        if changed
        else _("Nothing changed.")
    )
    return _to_object(campaign, obj, message)


@bp.post("/<int:campaign_id>/objects/<int:object_id>/submit")
@role_required(Role.EDITOR)
def submit_object(campaign_id, object_id):
    campaign = _active(campaign_id)
    obj = objects.get_or_404(campaign, object_id, lock=True)
    try:
        objects.submit(obj, actor=current_user)
    except objects.NotReady as refused:
        # Back to the post's own address (not …/submit), where its previews show each problem.
        back = _back_to_board(campaign)
        message = (
            _("“%(title)s” was not sent to review: open it to see what the networks would refuse.", title=obj.title)
            if back
            else _("Not sent to review: fix what the networks below would refuse.")
        )
        if not refused.checks:
            message += " " + _("Choose at least one account to publish to.")
        return _to_object(campaign, obj, message, "error", back=back)
    except workflow.InvalidTransition:
        abort(409)
    db.session.commit()
    return _to_object(
        campaign, obj, _("Sent to review: the approvers see it in their queue."), back=_back_to_board(campaign)
    )


def _back_to_board(campaign) -> str | None:
    """The board's quick action comes back to the board it was pressed on, with its filters."""
    if request.form.get("back") != "board":
        return None
    return url_for("campaigns.board", campaign_id=campaign.id, **boards.Filters.from_args(request.form).query_args())


@bp.post("/<int:campaign_id>/draft")
@role_required(Role.EDITOR)
def draft_message(campaign_id):
    """Ask N8N for a draft of the message, from what the form holds now (an actor calls it);
    the form of a new post has no `object_id` yet."""
    campaign = _active(campaign_id)
    object_id = request.form.get("object_id", type=int)
    obj = objects.get_or_404(campaign, object_id) if object_id else None
    if not drafting.enabled():
        return _draft_box(campaign, None, drafting.Draft("failed", error="not_configured"))
    scenarios = objects.offered_scenarios(campaign, obj)
    form = ObjectForm().set_targets(scenarios)
    request_id = drafting.start(campaign.id, drafting.context_of(campaign, obj, form, scenarios, str(get_locale())))
    return _draft_box(campaign, request_id, drafting.Draft("pending"))


@bp.post("/<int:campaign_id>/objects/count")
@role_required(Role.EDITOR)
def count_text(campaign_id):
    """The counters under the message, for each ticked network (htmx, as the editor types).
    With `platform`, the counter of that network's tab: its own text, or the base's while the
    tab follows the base (`version-<p>-follow-message`)."""
    campaign = service.get_or_404(campaign_id)
    text = request.form.get("message", "")
    platform = request.form.get("platform")
    if platform is not None:
        if platform not in {p.value for p in Platform}:
            abort(400)
        if not request.form.get(f"version-{platform}-follow-message"):
            text = request.form.get(f"version-{platform}-message", "")
    found = text_count.counters(campaign.id, request.form.getlist("targets", type=int), text)
    if platform is not None:
        found = [counter for counter in found if counter.platform.value == platform]
    return render("campaigns/_counters.html", counters=found)


@bp.post("/<int:campaign_id>/objects/preview")
@role_required(Role.EDITOR)
def preview_object(campaign_id):
    """The live preview beside the form: what each ticked network would show of the form's
    current values (the base and each network's tab), checked as on the post page; nothing is
    saved. `object_id` names the post being edited, `preview-platform` the network shown."""
    campaign = service.get_or_404(campaign_id)
    object_id = request.form.get("object_id", type=int)
    obj = objects.get_or_404(campaign, object_id) if object_id else None
    scenarios = objects.offered_scenarios(campaign, obj)
    checks, media, post = composer.preview(campaign, scenarios, request.form, obj)
    shown = list(dict.fromkeys(check.account.platform for check in checks))
    wanted = request.form.get("preview-platform")
    selected = next((p for p in shown if p.value == wanted), shown[0] if shown else None)
    return render(
        "campaigns/_composer_preview.html",
        campaign=campaign,
        checks=checks,
        media=media,
        obj=post,
        networks=shown,
        selected=selected,
    )


@bp.post("/<int:campaign_id>/objects/alt-texts/<platform>")
@role_required(Role.EDITOR)
def alt_texts(campaign_id, platform):
    """A network's per-image alt-text fields (htmx), drawn from the tab's files as the form holds
    them now, when its selection or the base's changes; the texts typed stay, an image new to
    the form shows its stored text (the post `object_id`'s). Nothing is saved."""
    campaign = service.get_or_404(campaign_id)
    object_id = request.form.get("object_id", type=int)
    obj = objects.get_or_404(campaign, object_id) if object_id else None
    fields = composer.alt_texts_fields(platform, obj, request.form)
    if fields is None:
        abort(404)
    return render("campaigns/_alt_texts.html", campaign=campaign, **fields)


@bp.get("/<int:campaign_id>/draft/<request_id>")
@role_required(Role.EDITOR)
def draft_status(campaign_id, request_id):
    """Polled while N8N drafts; 286 stops the polling once the draft is ready or failed."""
    campaign = service.get_or_404(campaign_id)
    return _draft_box(campaign, request_id, drafting.get(campaign.id, request_id))


@bp.get("/<int:campaign_id>/draft/<request_id>/message")
@role_required(Role.EDITOR)
def use_draft(campaign_id, request_id):
    """The message field holding the draft, swapped in when the editor chooses to use it."""
    campaign = service.get_or_404(campaign_id)
    draft = drafting.get(campaign.id, request_id)
    if draft.state != "ready":
        abort(404)
    form = ObjectForm(formdata=None, message=draft.message)
    return render("campaigns/_draft_message.html", form=form)


def _to_object(campaign, obj, message: str, category: str = "success", back: str | None = None):
    """After a change to the post: its page (or `back`) with what happened (303, so a reload does
    not post again, and the address bar shows the post). For htmx, HX-Location does the same."""
    flash(message, category)
    url = back or url_for("campaigns.show_object", campaign_id=campaign.id, object_id=obj.id)
    if wants_fragment():
        return "", 204, {"HX-Location": url}
    return redirect(url, 303)


def _draft_box(campaign, request_id, draft):
    return render(
        "campaigns/_draft.html",
        campaign=campaign,
        request_id=request_id,
        draft=draft,
        problem=drafting.explain(draft),
        status=286 if draft.settled and wants_fragment() else 200,
    )


@bp.get("/<int:campaign_id>/board")
@role_required(Role.EDITOR)
def board(campaign_id):
    campaign = service.get_or_404(campaign_id)
    filters = boards.Filters.from_args(request.args)
    columns = boards.board(campaign, filters)
    # Each distinct count translated once (ngettext per card is a tenth of the page's time).
    files = {
        n: ngettext("%(num)d file", "%(num)d files", n)
        for n in {card.media_count for cards in columns.values() for card in cards}
    }
    return render(
        "campaigns/board.html",
        block="board",
        campaign=campaign,
        filters=filters,
        columns=columns,
        files=files,
        authors=boards.authors(campaign),
        platforms=list(Platform),
        editable=campaign.status is CampaignStatus.ACTIVE,
    )


@bp.get("/<int:campaign_id>/calendar")
@role_required(Role.EDITOR, Role.APPROVER)
def calendar(campaign_id):
    """The calendar of every campaign (app/calendar), filtered on this one: old links keep working."""
    campaign = service.get_or_404(campaign_id)
    args = {"campaign": campaign.id, "network": request.args.get("network") or None}
    if month := request.args.get("month"):
        args["day"] = f"{month}-01"
    return redirect(url_for("calendar.index", **{k: v for k, v in args.items() if v}))


# -- Delivery control from the post page (app/publishing/control.py) ------------------------


def _controlled(campaign_id: int, object_id: int, action, done: str):
    """Lock the post, run `action(obj)`, commit, and say `done` on the post's page. A refusal
    (the post moved on meanwhile, a retry already made) comes back on the page with 409."""
    campaign = _active(campaign_id)
    obj = objects.get_or_404(campaign, object_id, lock=True)
    try:
        action(obj)
    except control.ControlError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        body, _status, headers = _object_page(campaign, objects.get_or_404(campaign, object_id))
        return body, 409, headers
    except LookupError:
        abort(404)
    db.session.commit()
    return _to_object(campaign, obj, done)


@bp.post("/<int:campaign_id>/objects/<int:object_id>/unschedule")
@role_required(Role.EDITOR)
def unschedule_object(campaign_id, object_id):
    return _controlled(
        campaign_id,
        object_id,
        lambda obj: control.unschedule(obj, actor=current_user),
        _("Unscheduled: nothing will be sent. The post stays approved, without a date."),
    )


@bp.post("/<int:campaign_id>/objects/<int:object_id>/publish-now")
@role_required(Role.EDITOR)
def publish_object_now(campaign_id, object_id):
    return _controlled(
        campaign_id,
        object_id,
        lambda obj: control.publish_now(obj, actor=current_user),
        _("Publishing now: the networks receive it in a moment."),
    )


@bp.post("/<int:campaign_id>/objects/<int:object_id>/publications/<int:publication_id>/retry")
@role_required(Role.EDITOR)
def retry_publication(campaign_id, object_id, publication_id):
    return _controlled(
        campaign_id,
        object_id,
        lambda obj: control.retry(obj, publication_id, actor=current_user),
        _("Retrying: this network receives the post again in a moment."),
    )
