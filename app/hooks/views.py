from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import csrf, db
from app.hooks import bp, callbacks, service
from app.models import Role
from app.publishing import manual
from app.rendering import render
from app.security import public, role_required


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    page = request.args.get("page", 1, type=int)
    attention, attention_total = manual.needing_attention(page)
    return render("hooks/index.html", block="listing", page=service.list_page(1, per_page=20),
                  health=manual.health(), attention=attention, attention_total=attention_total,
                  attention_page=page)


@bp.post("/publications/<int:publication_id>/retry")
@role_required(Role.EDITOR)
def retry(publication_id):
    try:
        manual.retry(publication_id, actor=current_user)
    except LookupError:
        abort(404)
    except manual.ManualActionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(request.referrer or url_for("hooks.index"), 303)
    db.session.commit()
    flash(_("The publication will be sent again."), "success")
    return redirect(request.referrer or url_for("hooks.index"), 303)


@bp.post("/publications/<int:publication_id>/settle")
@role_required(Role.ADMIN)
def settle(publication_id):
    published = request.form.get("published") == "1"
    url = (request.form.get("external_url") or "").strip() or None
    if published and url and not url.startswith(("https://", "http://")):
        flash(_("The address of the post must start with https://"), "error")
        return redirect(url_for("hooks.index"), 303)
    try:
        manual.settle(publication_id, published=published, actor=current_user, external_url=url,
                      reason=(request.form.get("reason") or "").strip() or None)
    except LookupError:
        abort(404)
    except manual.ManualActionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("hooks.index"), 303)
    db.session.commit()
    flash(_("Recorded."), "success")
    return redirect(url_for("hooks.index"), 303)


@bp.post("/make")
@public  # the HMAC signature over the raw body is the proof (app.hooks.signature)
@csrf.exempt
def make_callback():
    limit = current_app.config["CALLBACK_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        abort(413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413)
    answer = callbacks.receive(request.headers, body, request.remote_addr or "?")
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
    return jsonify(outcome=answer.outcome), answer.status, headers
