"""The Adaptive Card posted to a campaign's Teams Workflows webhook ("When a Teams webhook
request is received"): a `message` whose one attachment is an Adaptive Card 1.5 (the highest
version Teams renders) with the post's text, its first image and buttons (`Action.OpenUrl`)
that open the post and, once published, each live post. The text is the post's base text; a
line says which networks have their own version of it (app/versions.py). A message must stay
under 28 KB: the text is shortened until it fits. Sources in docs/notifications.md#teams."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext as _, ngettext

from app import versions
from app.extensions import db
from app.labels import platform_label
from app.models import Campaign, ContentObject, MediaAsset, MediaKind, ObjectMedia, Platform, TeamsMessage
from app.notifications import messages

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_BYTES = 28 * 1024


def webhook_url(campaign_id: int) -> str | None:
    return db.session.scalar(sa.select(Campaign.teams_webhook_url).where(Campaign.id == campaign_id))


def _first_image(object_id: int) -> str | None:
    from app.media.links import signed_media_url

    asset = db.session.scalar(
        sa.select(MediaAsset)
        .join(ObjectMedia, ObjectMedia.media_asset_id == MediaAsset.id)
        .where(ObjectMedia.object_id == object_id, MediaAsset.kind == MediaKind.IMAGE)
        .order_by(ObjectMedia.position)
        .limit(1)
    )
    return signed_media_url(asset) if asset is not None else None


def card(message: TeamsMessage, text: str, image: str | None, own: list[Platform] | tuple = ()) -> dict:
    """`own`: the networks that receive a version of their own instead of the base text."""
    data = message.data
    body = [
        {
            "type": "TextBlock",
            "text": messages.summary(message.event, data, data.get("by")),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if text:
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    if own:
        body.append(
            {
                "type": "TextBlock",
                "wrap": True,
                "isSubtle": True,
                "text": ngettext(
                    "%(num)d network has its own version (%(networks)s): open the post to read it.",
                    "%(num)d networks have their own version (%(networks)s): open the post to read them.",
                    len(own),
                    networks=", ".join(platform_label(platform) for platform in own),
                ),
            }
        )
    if image:
        body.append({"type": "Image", "url": image, "altText": data.get("title", ""), "size": "Large"})
    for line in messages.details(message.event, data):
        body.append({"type": "TextBlock", "text": line, "wrap": True, "isSubtle": True})
    actions = [{"type": "Action.OpenUrl", "title": _("Open the post"), "url": messages.post_url(message.object_id)}]
    for link in data.get("links", [])[:4]:
        actions.append(
            {
                "type": "Action.OpenUrl",
                "url": link["url"],
                "title": _("See it on %(network)s", network=platform_label(Platform(link["platform"]))),
            }
        )
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body, "actions": actions}


def wrap(content: dict) -> dict:
    return {"type": "message", "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": content}]}


def size(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def envelope(message: TeamsMessage) -> dict:
    """The whole request body, in the installation's language, shortened to fit 28 KB."""
    obj = db.session.get(ContentObject, message.object_id) if message.object_id else None
    text = obj.message if obj is not None else ""
    image = _first_image(obj.id) if obj is not None else None
    own = (
        [platform for platform, found in versions.versions(obj).items() if found.overridden] if obj is not None else []
    )
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        payload = wrap(card(message, text, image, own))
        while size(payload) > MAX_BYTES and text:
            text = text[: max(0, len(text) - (size(payload) - MAX_BYTES) - 64)].rstrip() + "…" if len(text) > 64 else ""
            payload = wrap(card(message, text, image, own))
    return payload
