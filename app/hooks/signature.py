"""Standard Webhooks signatures, as the Make scenarios compute them (docs/external-apis.md,
"Make status callbacks").

`webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">`,
keyed with the secret's text (IML's `sha256(text; base64; key)` takes the key as text). Several
space-separated signatures may be sent; one valid signature is enough. Verified on the raw
bytes, before any parsing, in constant time, against the current and the previous secret.

Freshness: a timestamp more than `TOLERANCE_S` in the future is refused (clock skew allowed,
no more); one in the past is accepted up to `max_age` seconds (`CALLBACK_MAX_AGE_S`, 48 h by
default), because Make's `Break` retries re-run the callback module hours later with the
timestamp the first run computed. Replays inside that window are stopped by the dedupe on
`webhook-id` (app.hooks.callbacks), which must therefore be kept at least twice `max_age`.
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


def verify(headers, body: bytes, secrets: list[str], *, max_age: int = TOLERANCE_S, now: float | None = None) -> str:
    """Return the webhook id of a valid callback, or raise SignatureError."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (webhook_id and timestamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    # The signed text is "{id}.{timestamp}.{body}": an id with a "." (or anything but visible
    # ASCII) could shift the boundaries, so the spec forbids it; 200 is the column's length.
    if len(webhook_id) > 200 or "." in webhook_id or not all("!" <= c <= "~" for c in webhook_id):
        raise SignatureError("webhook-id too long, or with a '.' or a character outside visible ASCII")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("webhook-timestamp is not a Unix time")
    age = (now or time.time()) - int(timestamp)
    if age < -TOLERANCE_S:
        raise SignatureError("webhook-timestamp more than 5 minutes in the future")
    if age > max(max_age, TOLERANCE_S):
        raise SignatureError(f"webhook-timestamp older than {max(max_age, TOLERANCE_S)} s")
    offered = [s.encode() for s in signatures.split() if s.startswith("v1,")]
    for secret in filter(None, secrets):
        expected = sign(secret, webhook_id, timestamp, body).encode()
        # Every candidate is compared, so timing does not tell which one matched.
        if any([hmac.compare_digest(expected, candidate) for candidate in offered]):
            return webhook_id
    raise SignatureError("no valid v1 signature")
