"""`/m/<token>`: a signed, expiring link that serves one stored version without a login.

Its signature and expiry are its proof (docs/architecture.md, "Routes open without a login").
A forged or unknown token gets 404 and an expired one 410, each with a one-line body that says
nothing about the asset.
"""

from flask import Blueprint, Response

from app.media import links
from app.media.streaming import version_response
from app.security import public

bp = Blueprint("media_links", __name__)


@bp.get("/m/<token>")
@public
def serve(token):
    try:
        target = links.resolve(token)
    except links.LinkExpired:
        return Response("This link has expired.\n", 410, mimetype="text/plain")
    except links.LinkInvalid:
        return Response("Not found.\n", 404, mimetype="text/plain")
    return version_response(target.asset, target.version, cache_control="private, max-age=3600")
