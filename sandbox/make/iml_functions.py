"""The IML functions the emulator evaluates, and how Make prints a value inside text
(``iml.py`` parses; docs/make-modules.md, "Mapping language")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timezone


# Keywords and variables of IML (make-skills iml-functions.md, "Variables and keywords").
KEYWORDS = {
    "null": None,
    "true": True,
    "false": False,
    "emptystring": "",
    "space": " ",
    "tab": "\t",
    "newline": "\n",
    "nbsp": "\xa0",
    "carriagereturn": "\r",
}
VARIABLES = ("now", "timestamp", "pi", "random", "uuid", "executionId", "emptyarray", "ignore", "erase")


class IMLError(ValueError):
    """An expression that does not parse, or that the emulator cannot evaluate."""


def to_text(value) -> str:
    """How Make prints a value inside text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def _format_date(date=None, format_=None, *_timezone):
    """``formatDate``; only the Unix forms ``X`` and ``x`` are emulated."""
    if isinstance(date, str):
        try:
            date = datetime.fromisoformat(date.replace("Z", "+00:00"))
        except ValueError as exc:
            raise IMLError(f"formatDate: {date!r} is not a date") from exc
    if not isinstance(date, datetime):
        raise IMLError(f"formatDate: {date!r} is not a date")
    if format_ == "X":
        return str(int(date.timestamp()))
    if format_ == "x":
        return str(int(date.timestamp() * 1000))
    raise IMLError(f"formatDate format {format_!r} is not emulated (only \"X\" and \"x\")")


_ENCODERS = {"hex": lambda digest: digest.hex(), "base64": lambda digest: base64.b64encode(digest).decode("ascii")}
_KEY_DECODERS = {"text": lambda key: key.encode("utf-8"), "hex": bytes.fromhex, "base64": base64.b64decode}


def _sha256(text=None, encoding=None, key=None, key_encoding=None):
    """``sha256(text; [encoding]; [key]; [keyEncoding])``: an HMAC-SHA256 when a key is given."""
    encoder = _ENCODERS.get(encoding or "hex")
    decoder = _KEY_DECODERS.get(key_encoding or "text")
    if encoder is None or decoder is None:
        raise IMLError(f"sha256: encoding {encoding!r} / key encoding {key_encoding!r} is not emulated")
    message = to_text(text).encode("utf-8")
    if key in (None, ""):
        return encoder(hashlib.sha256(message).digest())
    return encoder(hmac.new(decoder(to_text(key)), message, hashlib.sha256).digest())


def _replace(text=None, search=None, replacement=None):
    """``replace``: plain text, or a regular expression written ``/pattern/flags``."""
    text, search, replacement = to_text(text), to_text(search), to_text(replacement)
    pattern = re.fullmatch(r"/(.*)/([gi]*)", search, re.S)
    if pattern:
        flags = re.I if "i" in pattern[2] else 0
        return re.sub(pattern[1], replacement, text, count=0 if "g" in pattern[2] else 1, flags=flags)
    return text.replace(search, replacement)


def _length(value=None):
    if isinstance(value, (list, dict)):
        return len(value)
    return len(to_text(value))


def _empty(value) -> bool:
    return value in (None, "", [], {})


EMULATED = {
    "formatDate": _format_date,
    "sha256": _sha256,
    "replace": _replace,
    "length": _length,
    "if": lambda test=None, then=None, otherwise=None: then if test not in (None, False, "", "false") else otherwise,
    "ifempty": lambda value=None, fallback=None: fallback if _empty(value) else value,
    "lower": lambda text=None: to_text(text).lower(),
    "upper": lambda text=None: to_text(text).upper(),
    "trim": lambda text=None: to_text(text).strip(),
    "toString": to_text,
    "contains": lambda where=None, what=None: (
        what in where if isinstance(where, list) else to_text(what) in to_text(where)
    ),
    "first": lambda items=None: items[0] if isinstance(items, list) and items else None,
}
