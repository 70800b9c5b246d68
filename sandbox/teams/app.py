"""The Teams Workflows webhook emulator: routes, the checks of a message, what was received.

What each check rests on is in docs/notifications.md#teams; what no public source settles is
marked there (and below) as unverified.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

from flask import Flask, jsonify, request

MAX_BYTES = 28 * 1024  # Teams' message size limit for webhooks
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")  # Teams renders up to 1.5

# element type -> (required fields, version that introduced it)
ELEMENTS = {
    "TextBlock": (("text",), "1.0"),
    "Image": (("url",), "1.0"),
    "Container": (("items",), "1.0"),
    "ColumnSet": ((), "1.0"),
    "FactSet": (("facts",), "1.0"),
    "ImageSet": (("images",), "1.0"),
    "Media": (("sources",), "1.1"),
    "ActionSet": (("actions",), "1.2"),
    "RichTextBlock": (("inlines",), "1.2"),
    "Table": ((), "1.5"),
    "Input.Text": (("id",), "1.0"),
    "Input.Number": (("id",), "1.0"),
    "Input.Date": (("id",), "1.0"),
    "Input.Time": (("id",), "1.0"),
    "Input.Toggle": (("id", "title"), "1.0"),
    "Input.ChoiceSet": (("id",), "1.0"),
}
ACTIONS = {
    "Action.OpenUrl": (("url",), "1.0"),
    "Action.Submit": ((), "1.0"),
    "Action.ShowCard": (("card",), "1.0"),
    "Action.ToggleVisibility": (("targetElements",), "1.2"),
    "Action.Execute": ((), "1.4"),
}


class CardError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _version(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split("."))


def _check_items(items, kinds: dict, where: str, version: str) -> None:
    if not isinstance(items, list):
        raise CardError(400, "InvalidCard", f"{where} must be an array")
    for n, item in enumerate(items):
        path = f"{where}[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise CardError(400, "InvalidCard", f"{path}.type is required")
        if item["type"] not in kinds:
            raise CardError(400, "InvalidCard", f"{path}.type '{item['type']}' is not a known type here")
        required, since = kinds[item["type"]]
        for field in required:
            if item.get(field) in (None, "", []):
                raise CardError(400, "InvalidCard", f"{path}.{field} is required for {item['type']}")
        if _version(since) > _version(version):
            raise CardError(
                400, "InvalidCard", f"{path}: {item['type']} needs version {since}, the card says {version}"
            )
        if item["type"] == "Action.OpenUrl" and urlsplit(str(item["url"])).scheme not in ("http", "https"):
            raise CardError(400, "InvalidCard", f"{path}.url must be an absolute http(s) URL")
        if item["type"] == "Image" and urlsplit(str(item["url"])).scheme not in ("http", "https", "data"):
            raise CardError(400, "InvalidCard", f"{path}.url must be an absolute URL")
        if item["type"] == "Container":
            _check_items(item["items"], ELEMENTS, f"{path}.items", version)
        if item["type"] == "ActionSet":
            _check_items(item["actions"], ACTIONS, f"{path}.actions", version)
        if item["type"] == "FactSet" and not all(
            isinstance(f, dict) and "title" in f and "value" in f for f in item["facts"]
        ):
            raise CardError(400, "InvalidCard", f"{path}.facts[] need a title and a value")


def validate(raw: bytes) -> dict:
    """The parsed message, or CardError with the status the emulator answers."""
    if len(raw) > MAX_BYTES:
        raise CardError(413, "MessageTooLarge", f"the message is {len(raw)} bytes; the limit is {MAX_BYTES}")
    try:
        message = json.loads(raw)
    except ValueError as exc:
        raise CardError(400, "InvalidRequestContent", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("type") != "message":
        raise CardError(400, "InvalidEnvelope", "type must be 'message'")
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        raise CardError(400, "InvalidEnvelope", "attachments must be a non-empty array")
    for n, attachment in enumerate(attachments):
        if not isinstance(attachment, dict) or attachment.get("contentType") != CONTENT_TYPE:
            raise CardError(400, "InvalidEnvelope", f"attachments[{n}].contentType must be {CONTENT_TYPE}")
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            raise CardError(400, "InvalidCard", f"attachments[{n}].content.type must be 'AdaptiveCard'")
        if card.get("version") not in VERSIONS:
            raise CardError(400, "InvalidCard", f"version must be one of {', '.join(VERSIONS)}")
        if card.get("$schema") != SCHEMA:
            raise CardError(400, "InvalidCard", f"$schema must be {SCHEMA}")
        _check_items(card.get("body", []), ELEMENTS, f"attachments[{n}].content.body", card["version"])
        _check_items(card.get("actions", []), ACTIONS, f"attachments[{n}].content.actions", card["version"])
    return message


class TeamsEmulator:
    def __init__(self, signature: str):
        self.signature = signature
        self.received: list[dict] = []
        self.refused: list[dict] = []
        self.fail_status: int | None = None
        self.fail_count = 0
        self.lock = threading.Lock()

    def webhook_url(self, base: str, flow: str) -> str:
        # The shape of a Workflows trigger URL (a Logic Apps "manual" trigger with a SAS signature).
        return (
            f"{base}/workflows/{flow}/triggers/manual/paths/invoke"
            f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.signature}"
        )


def create_app(*, signature: str = "emulator-signature") -> Flask:
    app = Flask("sandbox.teams")
    emulator = TeamsEmulator(signature)
    app.extensions["teams_emulator"] = emulator

    def error(status: int, code: str, message: str):
        return jsonify(error={"code": code, "message": message}), status

    @app.post("/workflows/<flow>/triggers/manual/paths/invoke")
    def invoke(flow):
        if request.args.get("sig") != emulator.signature:
            return error(401, "DirectApiAuthorizationRequired", "The request must be authenticated (sig).")
        with emulator.lock:
            if emulator.fail_count > 0 and emulator.fail_status:
                emulator.fail_count -= 1
                return error(emulator.fail_status, "ServiceUnavailable", "fault injected by the emulator")
        if request.mimetype != "application/json":
            return error(415, "UnsupportedMediaType", "Content-Type must be application/json")
        try:
            message = validate(request.get_data())
        except CardError as exc:
            with emulator.lock:
                emulator.refused.append({"flow": flow, "status": exc.status, "code": exc.code, "message": exc.message})
            return error(exc.status, exc.code, exc.message)
        with emulator.lock:
            emulator.received.append({"flow": flow, "message": message, "bytes": len(request.get_data())})
        return "", 202

    @app.get("/_emulator/messages")
    def messages():
        with emulator.lock:
            return jsonify(received=emulator.received, refused=emulator.refused)

    @app.post("/_emulator/faults")
    def faults():
        body = request.get_json(force=True) or {}
        with emulator.lock:
            emulator.fail_status = body.get("status")
            emulator.fail_count = int(body.get("count", 0))
        return "", 204

    @app.post("/_emulator/reset")
    def reset():
        with emulator.lock:
            emulator.received.clear()
            emulator.refused.clear()
            emulator.fail_status, emulator.fail_count = None, 0
        return "", 204

    return app
