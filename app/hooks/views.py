from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import csrf, db
from app.hooks import bp, callbacks
from app.models import Role
from app.publishing import manual, results
from app.rendering import render
from app.security import public, role_required


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _health_page()


def _health_page(*, status: int = 200, settle: dict | None = None):
    """The publishing health page; `settle` re-renders a refused "settle by hand" form as typed."""
    page = request.args.get("page", 1, type=int)
    attention, attention_total = manual.needing_attention(page)
    set_aside, set_aside_total = results.set_aside()
    return render(
        "hooks/index.html",
        block="listing",
        status=status,
        callbacks=results.recent(),
        health=manual.health(),
        attention=attention,
        attention_total=attention_total,
        attention_page=page,
        set_aside=set_aside,
        set_aside_total=set_aside_total,
        settle=settle,
    )


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
    typed = {
        "publication_id": publication_id,
        "published": request.form.get("published") == "1",
        "external_url": (request.form.get("external_url") or "").strip(),
        "reason": (request.form.get("reason") or "").strip(),
    }
    try:
        manual.settle(
            publication_id,
            published=typed["published"],
            actor=current_user,
            external_url=typed["external_url"] or None,
            reason=typed["reason"] or None,
        )
    except LookupError:
        abort(404)
    except manual.InvalidAddress as exc:
        db.session.rollback()
        return _health_page(status=422, settle=typed | {"error": str(exc)})
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
    body = b"" if (request.content_length or 0) > limit else request.stream.read(limit + 1)
    if (request.content_length or 0) > limit or len(body) > limit:
        return jsonify(outcome="too_large"), 413
    answer = callbacks.receive(request.headers, body, request.remote_addr or "?")
    return jsonify(answer.body()), answer.status, answer.headers()
