"""Request helpers shared by the route modules: the emulator in use, bodies, query strings."""

from __future__ import annotations

import json
import re

from flask import current_app, request

from .errors import MeiliError, invalid_index_uid, not_emulated, unknown_field

EXTENSION_KEY = "meili_emulator"
INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
DOCUMENT_CONTENT_TYPES = ["application/json", "application/x-ndjson", "text/csv"]


def emulator():
    """The :class:`~sandbox.meili.api.MeiliEmulator` behind the current app."""
    return current_app.extensions[EXTENSION_KEY]


def valid_uid(uid: str, code: str = "invalid_index_uid") -> str:
    """An index uid from a path or a query, refused as Meilisearch refuses it."""
    if not INDEX_UID.match(uid):
        raise invalid_index_uid(uid, code)
    return uid


def json_body():
    """The JSON body. Like Meilisearch, any Content-Type is accepted outside document routes."""
    data = request.get_data()
    if not data.strip():
        raise MeiliError(400, "missing_payload", "A json payload is missing.")
    try:
        return json.loads(data)
    except ValueError as error:
        raise MeiliError(400, "malformed_payload", f"The json payload provided is malformed. `{error}`.") from None


def document_payload() -> list[dict]:
    """Documents sent to ``POST``/``PUT /documents``, where the Content-Type is enforced."""
    header = request.headers.get("Content-Type")
    accepted = ", ".join(f"`{kind}`" for kind in DOCUMENT_CONTENT_TYPES)
    if not header:
        raise MeiliError(
            415,
            "missing_content_type",
            f"A Content-Type header is missing. Accepted values for the Content-Type header are: {accepted}",
        )
    if request.mimetype in ("application/x-ndjson", "text/csv"):
        raise not_emulated(f"`{request.mimetype}` document payloads")
    if request.mimetype != "application/json":
        raise MeiliError(
            415,
            "invalid_content_type",
            f"The Content-Type `{header}` is invalid. Accepted values for the Content-Type header are: {accepted}",
        )
    data = request.get_data()
    if not data.strip():
        raise MeiliError(400, "missing_payload", "A json payload is missing.")
    try:
        documents = json.loads(data)
    except ValueError as error:
        raise _malformed(str(error)) from None
    documents = [documents] if isinstance(documents, dict) else documents
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise _malformed("Couldn't serialize document value: expected a map or a sequence of maps")
    return documents


def _malformed(detail: str) -> MeiliError:
    return MeiliError(400, "malformed_payload", f"The `json` payload provided is malformed. `{detail}`.")


def check_query(accepted: list[str], inert: tuple[str, ...] = ()) -> None:
    """Refuse unknown query parameters (400) and real ones not emulated (501)."""
    for name in request.args:
        if name in inert:
            raise not_emulated(f"the `{name}` query parameter")
        if name not in accepted:
            message = unknown_field("bad_request", name, accepted + list(inert)).message
            raise MeiliError(400, "bad_request", message.replace("Unknown field", "Unknown parameter"))


def query_int(name: str, code: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise MeiliError(
            400, code, f"Invalid value in parameter `{name}`: could not parse `{raw}` as a positive integer"
        )
    return int(raw)


def query_list(name: str) -> list[str] | None:
    """A comma-separated filter; ``*`` (or absence) means no filter."""
    raw = request.args.get(name)
    if raw is None:
        return None
    values = [value.strip() for value in raw.split(",")]
    return None if "*" in values else values
