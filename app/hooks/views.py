from flask import abort, current_app, jsonify, request

from app.extensions import csrf
from app.hooks import bp, callbacks, service
from app.models import Role
from app.rendering import render
from app.security import public, role_required


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    page = service.list_page(request.args.get("page", 1, type=int))
    return render("hooks/index.html", block="listing", page=page)


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
