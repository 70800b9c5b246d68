"""Optional "draft the message" through an N8N webhook (off unless `N8N_WEBHOOK_URL` is set).

Outbound calls to third parties never run in a web request: the button's request stores a
pending record in Redis and enqueues the `draft_message` actor, which POSTs the post's context
to N8N (httpx, `N8N_TIMEOUT_S`) and stores the answer, or why there is none, under the same
key (campaign + a random request id, expiring after `N8N_DRAFT_TTL_S`), so a post being
written, not saved yet, can have a draft too. The page polls that record and shows the draft;
the editor decides to put it in the message and still saves the post.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass

import httpx
from flask import current_app
from flask_babel import gettext as _

from app.extensions import redis_store

MAX_DRAFT_CHARS = 10_000
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
# Past the call's own timeout, a draft still pending means no worker took the message.
WORKER_GRACE_S = 30


@dataclass
class Draft:
    state: str  # pending, ready, failed, expired
    message: str | None = None
    error: str | None = None  # timeout, unreachable, http_error, empty, not_configured
    status_code: int | None = None

    @property
    def settled(self) -> bool:
        return self.state != "pending"


def explain(draft: Draft) -> str | None:
    """Why there is no draft, in the editor's words (None when there is nothing to explain)."""
    if draft.state == "expired":
        return _("This draft is no longer available. Ask for a new one.")
    if draft.state != "failed":
        return None
    return {
        "not_configured": _("Drafting with N8N is not configured."),
        "timeout": _("N8N did not answer in time. Try again later."),
        "unreachable": _("N8N could not be reached. Try again later."),
        "http_error": _("N8N answered with an error (HTTP %(status)s).", status=draft.status_code),
        "empty": _("N8N answered without a draft."),
    }.get(draft.error, _("N8N could not draft the message."))


def enabled() -> bool:
    return bool(current_app.config["N8N_WEBHOOK_URL"])


def _key(campaign_id: int, request_id: str) -> str:
    return redis_store.key(f"drafts:c{campaign_id}:{request_id}")


def _store(campaign_id: int, request_id: str, record: dict) -> None:
    redis_store.client.set(_key(campaign_id, request_id), json.dumps(record), ex=current_app.config["N8N_DRAFT_TTL_S"])


def context_of(campaign, obj, form, scenarios, locale: str) -> dict:
    """What N8N drafts from: the post as the editor sees it in the form (saved or not; `obj`
    None while it is being written)."""
    ticked = set(form.targets.data or [])
    return {
        "campaign": {"id": campaign.id, "name": campaign.name},
        "object": {
            "id": obj.id if obj else None,
            "title": form.title.data or "",
            "message": form.message.data or "",
            "link": form.link.data or None,
        },
        "platforms": sorted({s.social_account.platform.value for s in scenarios if s.id in ticked}),
        "language": locale,
    }


def start(campaign_id: int, context: dict) -> str:
    """Record a pending draft and hand the call to the actor; the request id to poll."""
    from app.tasks import by_name

    draft_message = by_name("draft_message")

    request_id = uuid.uuid4().hex
    _store(campaign_id, request_id, {"state": "pending", "started": time.time()})
    draft_message.send(campaign_id, request_id, context)
    return request_id


def get(campaign_id: int, request_id: str) -> Draft:
    """The draft a poll asks about; an id that `start` cannot have made is simply not there."""
    if not REQUEST_ID.fullmatch(request_id):
        return Draft("expired")
    raw = redis_store.client.get(_key(campaign_id, request_id))
    if raw is None:
        return Draft("expired")
    record = json.loads(raw)
    if (
        record["state"] == "pending"
        and time.time() - record["started"] > current_app.config["N8N_TIMEOUT_S"] + WORKER_GRACE_S
    ):
        return Draft("failed", error="timeout")
    return Draft(
        record["state"], message=record.get("message"), error=record.get("error"), status_code=record.get("status_code")
    )


def run(campaign_id: int, request_id: str, context: dict) -> None:
    """The actor's work: ask N8N, store the draft or the reason there is none."""
    _store(campaign_id, request_id, ask_n8n(context))


def ask_n8n(context: dict) -> dict:
    url = current_app.config["N8N_WEBHOOK_URL"]
    if not url:
        return {"state": "failed", "error": "not_configured"}
    try:
        response = httpx.post(url, json=context, timeout=current_app.config["N8N_TIMEOUT_S"])
    except httpx.TimeoutException:
        return {"state": "failed", "error": "timeout"}
    except httpx.HTTPError:
        return {"state": "failed", "error": "unreachable"}
    if response.status_code >= 300:
        return {"state": "failed", "error": "http_error", "status_code": response.status_code}
    message = _message_of(response)
    if not message:
        return {"state": "failed", "error": "empty"}
    return {"state": "ready", "message": message[:MAX_DRAFT_CHARS]}


def _message_of(response: httpx.Response) -> str:
    """N8N's "Respond to Webhook" node answers JSON (`{"message": ...}`, or a one-item list of
    it when it returns all items) or plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        body = body.get("message") or body.get("text") or ""
    return body.strip() if isinstance(body, str) else ""
