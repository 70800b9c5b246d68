"""``createLink``: sharing links, idempotent per item, type and scope (201 first, then 200).

Link URLs keep SharePoint's form (``https://{host}/:i:/s/{site}/E...``, the letter telling the
kind of file) because the CMS stores them; they do not resolve against the emulator. Without a
``scope`` the link is ``organization``, standing in for the tenant's default.
"""

from __future__ import annotations

import secrets

from .addressing import Target, existing_item
from .representations import mime_type
from .tree import Item
from .state import GraphEmulator, current_emulator
from .wire import GraphError, json_response, read_json_body

ROLES = {
    "view": ["read"],
    "edit": ["write"],
    "review": ["read"],
    "blocksDownload": ["read"],
    "createOnly": ["write"],
    "addressBar": ["read"],
    "adminDefault": ["read"],
}
SCOPES = ("anonymous", "organization", "users")
OFFICE_LETTERS = {"word": "w", "excel": "x", "sheet": "x", "powerpoint": "p", "presentation": "p"}


def create_link(target: Target):
    emulator = current_emulator()
    body = read_json_body()
    link_type, scope = body.get("type"), body.get("scope", "organization")
    if link_type == "embed":
        raise GraphError(400, "Embed links are only supported on OneDrive personal.", code="notSupported")
    if not isinstance(link_type, str) or link_type not in ROLES:
        raise GraphError(400, f"Invalid sharing link type: {link_type!r}.")
    if scope not in SCOPES:
        raise GraphError(400, f"Invalid sharing link scope: {scope!r}.")
    if "password" in body:
        raise GraphError(400, "Link passwords are only supported on OneDrive personal.", code="notSupported")
    if scope == "anonymous" and not emulator.config.allow_anonymous_links:
        raise GraphError(403, "Anonymous sharing links are disabled for this tenant.")
    with emulator.lock:
        item = existing_item(emulator, target)
        key = (item.id, link_type, scope)
        permission = emulator.links.get(key)
        created = permission is None
        if created:
            permission = _new_permission(emulator, link_type, scope, _kind_letter(item), body.get("expirationDateTime"))
            emulator.links[key] = permission
    return json_response(permission, 201 if created else 200)


def _new_permission(emulator: GraphEmulator, link_type: str, scope: str, letter: str, expiration: str | None) -> dict:
    config = emulator.config
    site_name = config.site_path.rsplit("/", 1)[-1]
    share_token = "E" + secrets.token_urlsafe(33)
    permission = {
        "id": secrets.token_urlsafe(6),
        "roles": ROLES[link_type],
        "hasPassword": False,
        "shareId": "u!" + secrets.token_urlsafe(30),
        "link": {
            "type": link_type,
            "scope": scope,
            "preventsDownload": link_type == "blocksDownload",
            "webUrl": f"https://{config.site_hostname}/:{letter}:/s/{site_name}/{share_token}",
            "application": {"id": config.client_id, "displayName": config.app_display_name},
        },
    }
    if expiration:
        permission["expirationDateTime"] = expiration
    return permission


def _kind_letter(item: Item) -> str:
    """The ``:i:`` part of a SharePoint sharing URL: image, video, PDF, Office, folder or other."""
    if item.is_folder:
        return "f"
    mime = mime_type(item.name)
    if mime.startswith("image/"):
        return "i"
    if mime.startswith("video/"):
        return "v"
    if mime == "application/pdf":
        return "b"
    return next((letter for word, letter in OFFICE_LETTERS.items() if word in mime), "u")
