"""Signed, expiring public links to one stored version of an asset (`/m/<token>`).

Networks such as Instagram download media from a public URL, so the publication payload carries
these links (docs/external-apis.md §4.1). The token names the asset and the backend's version
it was made for: a link made when a post was approved keeps serving the approved bytes even if
the file is replaced later. It is signed with `SECRET_KEY` (itsdangerous, its own salt; the keys of
`SECRET_KEY_FALLBACKS` still verify during a rotation) and expires after `MEDIA_LINK_MAX_AGE`
seconds (default 24 h).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.config import signing_keys
from app.extensions import db
from app.models import MediaAsset
from app.storage import transfers

SALT = "media-link"
RENDITION_SALT = "rendition-link"  # a rendition's links: `/m/r/<token>` (app/renditions/views.py)


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class LinkTarget:
    asset: MediaAsset
    version: str  # the storage backend's version id


def _serializer(salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_keys(current_app.config), salt=salt)


def make_token(asset: MediaAsset) -> str:
    """While the current version waits for its remote backend, the link names its staged file
    (served from local disk meanwhile, from the backend once stored)."""
    return _serializer().dumps({"a": asset.id, "v": transfers.link_version(asset)})


def signed_media_url(asset: MediaAsset) -> str:
    """The absolute public URL of the asset's current version, built on `PUBLIC_BASE_URL`
    (never on a request's Host header), usable from actors as well as requests."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/m/{make_token(asset)}"


def resolve(token: str) -> LinkTarget:
    """The asset and version a token names; `LinkExpired` or `LinkInvalid` otherwise."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["MEDIA_LINK_MAX_AGE"])
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    asset = db.session.get(MediaAsset, data.get("a")) if isinstance(data, dict) else None
    if asset is None or not isinstance(data.get("v"), str):
        raise LinkInvalid()
    if asset.storage_item_id is None and not transfers.pending(asset):
        raise LinkInvalid()
    return LinkTarget(asset, data["v"])


def signed_rendition_url(rendition) -> str:
    """The public URL of a ready rendition (the file a network gets), as `signed_media_url`:
    the token names the rendition and its stored version, expires like the others."""
    token = _serializer(RENDITION_SALT).dumps({"r": rendition.id, "v": rendition.storage_version})
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/m/r/{token}"


def resolve_rendition(token: str):
    """The ready rendition a token names; `LinkExpired` or `LinkInvalid` otherwise."""
    from app.models import Rendition

    try:
        data = _serializer(RENDITION_SALT).loads(token, max_age=current_app.config["MEDIA_LINK_MAX_AGE"])
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    rendition = db.session.get(Rendition, data.get("r")) if isinstance(data, dict) else None
    if rendition is None or not rendition.ready or rendition.storage_version != data.get("v"):
        raise LinkInvalid()
    return rendition
