"""The JSON sent to a scenario's webhook, one per attempt (docs/external-apis.md §4.1)."""

from __future__ import annotations

import time
from typing import Callable

from flask import current_app

from app import network_options, versions
from app.extensions import db
from app.models import Campaign, CampaignScenario, ContentObject, MediaAsset, Publication, SocialAccount

# How a media file is exposed to the networks: a signed public URL served by the CMS. The media
# library provides it (`MEDIA_URL_BUILDER` in the app's extensions); without one, media are
# sent without a URL and the send is refused before reaching Make.
MediaUrl = Callable[[MediaAsset], str]


def media_url_builder() -> MediaUrl | None:
    return current_app.extensions.get("media_url_builder")


def build(publication: Publication) -> dict:
    scenario = db.session.get(CampaignScenario, publication.campaign_scenario_id)
    account = db.session.get(SocialAccount, scenario.social_account_id)
    obj = db.session.get(ContentObject, publication.object_id)
    campaign = db.session.get(Campaign, obj.campaign_id)
    # This network's version of the post: its own text, link and media where it overrides the
    # base (app/versions.py), and its options.
    own = versions.version(obj, account.platform)
    # Options that would publish something else than what was approved fail the publication
    # with the reason (`network_options.Refused` is a LookupError: see sender.send).
    network_options.refuse_unpublishable(account.platform, own)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        "delivery_id": f"pub-{publication.id}",
        "idempotency_key": publication.idempotency_key,
        "attempt": publication.attempts,
        "fingerprint": publication.fingerprint,
        "campaign": {"id": campaign.id, "name": campaign.name},
        "object": {"id": obj.id, "title": obj.title},
        "platform": account.platform.value,
        "account_identifier": account.account_identifier,
        "text": own.message,
        "link": own.link,
        "media": [
            dict(_media(asset, account.platform, own.crops), alt_text=network_options.alt_text(own, asset))
            for asset in own.media
        ],
        # Every option of the network, its value or its default (app/network_options.py).
        "options": network_options.payload_options(account.platform, own.options),
        "callback_url": base + current_app.url_map.bind("").build("hooks.make_callback"),
        "sent_at": int(time.time()),
    }


def _media(asset: MediaAsset, platform, crops: dict | None = None) -> dict:
    """Images and videos are sent as their rendition for the network (app/renditions), made
    around the crop of the network's version (`crops`): its signed URL and its own type, size and
    dimensions. `RenditionPending` while it is being made (the sender waits for it),
    `RenditionFailed` if it could not be: never the original instead."""
    from app.media.links import signed_rendition_url
    from app.renditions import service as renditions

    rendition = renditions.for_payload(asset, platform, renditions.crop_for(asset, crops))
    if rendition is not None:
        return {
            "url": signed_rendition_url(rendition),
            "mime": rendition.mime,
            "size": rendition.size_bytes,
            "width": rendition.width,
            "height": rendition.height,
            "duration_s": float(rendition.duration_s) if rendition.duration_s is not None else None,
        }
    builder = media_url_builder()
    if builder is None:
        raise LookupError("no public media URL builder is configured")
    item = {
        "url": builder(asset),
        "mime": asset.mime,
        "size": asset.size_bytes,
        "width": asset.width,
        "height": asset.height,
        "duration_s": float(asset.duration_s) if asset.duration_s is not None else None,
    }
    if asset.storage_backend.value == "sharepoint":
        item["sharepoint"] = {"drive_id": current_app.config["GRAPH_DRIVE_ID"], "item_id": asset.storage_item_id}
    return item
