"""Standard Webhooks signatures, as the Make scenarios compute them (docs/external-apis.md §1.6).

`webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">`,
keyed with the secret's text (IML's `sha256(text; base64; key)` takes the key as text). Several
space-separated signatures may be sent; one valid signature is enough. Verified on the raw
bytes, before any parsing, in constant time, against the current and the previous secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

TOLERANCE_S = 5 * 60


class SignatureError(Exception):
    """Why a callback was refused (for logs; the caller answers 401 without details)."""


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(headers, body: bytes, secrets: list[str], *, now: float | None = None) -> str:
    """Return the webhook id of a valid callback, or raise SignatureError."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (webhook_id and timestamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(webhook_id) > 200:
        raise SignatureError("webhook-id too long")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a Unix time")
    if abs((now or time.time()) - sent_at) > TOLERANCE_S:
        raise SignatureError("webhook-timestamp outside the 5 minute tolerance")
    offered = [s.encode() for s in signatures.split() if s.startswith("v1,")]
    for secret in filter(None, secrets):
        expected = sign(secret, webhook_id, timestamp, body).encode()
        # Every candidate is compared, so timing does not tell which one matched.
        if any([hmac.compare_digest(expected, candidate) for candidate in offered]):
            return webhook_id
    raise SignatureError("no valid v1 signature")
