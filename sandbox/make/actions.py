"""What each kind of catalogued module does when a run reaches it (``flow.py`` routes).

A module that fails raises :class:`ModuleError`, Make's error bundle (``type``, ``message``):
its ``onerror`` route sees ``{{N.error.message}}``. Network modules check their rendered input
the way Make's bundle validation does (a required field empty, a value outside its list, a
connection of the wrong type) before the pretend network takes the post.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
from urllib.parse import urlsplit

from . import catalogue
from .iml import to_text
from .state import utc_now_iso

_POST_URLS = {
    "facebook-pages": "https://www.facebook.com/{id}",
    "instagram-business": "https://www.instagram.com/p/{id}/",
    "linkedin": "https://www.linkedin.com/feed/update/{id}/",
    "youtube": "https://www.youtube.com/watch?v={id}",
}
_YOUTUBE_ALPHABET = string.ascii_letters + string.digits + "-_"


class ModuleError(Exception):
    """A module failed the way a Make module fails: a type (DataError, RuntimeError…), a
    message, and for the CMS's own emulated failures a code (kept out of the IML outputs)."""

    def __init__(self, kind: str, message: str, code: str | None = None):
        super().__init__(message)
        self.bundle = {"type": kind, "code": code or kind, "message": message}


def is_buffer(value) -> bool:
    return isinstance(value, dict) and value.get("__buffer__") is True


def set_variables(mapper: dict) -> dict:
    return {item["name"]: item.get("value") for item in mapper.get("variables") or []}


def to_json(mapper: dict) -> dict:
    """Make's "Transform to JSON": any value as JSON text, a string quoted and escaped."""
    return {"json": json.dumps(mapper.get("object"), ensure_ascii=False, separators=(",", ":"))}


def check_data_store(data: dict, store_id) -> None:
    """The one seeded Data Store (``api.DATA_STORE_ID``), unless it was deleted."""
    from .api import DATA_STORE_ID

    if store_id != DATA_STORE_ID or store_id in data.get("deleted_data_stores", ()):
        raise ModuleError("InvalidConfigurationError", f"Data store {store_id} not found.")


def datastore_get(data: dict, mapper: dict) -> dict:
    key = to_text(mapper.get("key"))
    record = data["datastore"].get(key)
    if mapper.get("returnWrapped") is True:
        return {"key": key, "data": dict(record)} if record else {}
    return dict(record) if record else {}


def datastore_add(data: dict, mapper: dict) -> dict:
    key = to_text(mapper.get("key"))
    if not key:
        raise ModuleError(
            "DataError", "Validation failed for 1 parameter(s). Missing value of required parameter 'key'."
        )
    if key in data["datastore"] and mapper.get("overwrite") is not True:
        raise ModuleError("DataError", f"The record with the key '{key}' already exists.")
    record = dict(mapper.get("data") or {})
    data["datastore"][key] = record
    return {"key": key, **record}


def http_request(http, mapper: dict, sent: callable) -> dict:
    """``http:MakeRequest``: the JSON string body as bytes; a non-2xx answer is an error only
    with ``stopOnHttpError`` (Make's "Evaluate all states as errors"), else it is an output."""
    method = str(mapper.get("method") or "get").upper()
    url = _url(mapper.get("url"))
    headers = {"User-Agent": "Make/production"}
    body = None
    if "jsonStringBodyContent" in mapper:
        body = to_text(mapper["jsonStringBodyContent"]).encode("utf-8")
        headers["Content-Type"] = "application/json"
    for header in mapper.get("headers") or []:
        headers[to_text(header.get("name"))] = to_text(header.get("value"))
    params = [(to_text(item.get("name")), to_text(item.get("value"))) for item in mapper.get("queryParameters") or []]
    try:
        response = http.request(
            method,
            url,
            params=params,
            headers=headers,
            content=body,
            follow_redirects=mapper.get("allowRedirects") is True,
        )
    except Exception as exc:  # any transport failure is Make's ConnectionError
        sent(url, headers, body, None, f"{type(exc).__name__}: {exc}")
        raise ModuleError("ConnectionError", f"{type(exc).__name__}: {exc}") from exc
    sent(url, headers, body, response.status_code, None)
    if mapper.get("stopOnHttpError") is True and not 200 <= response.status_code < 300:
        raise ModuleError(
            "RuntimeError", f"[{response.status_code}] {response.text[:200]}", code=str(response.status_code)
        )
    try:
        parsed = response.json() if mapper.get("parseResponse") is True else response.text
    except ValueError:
        parsed = response.text
    return {
        "statusCode": response.status_code,
        "data": parsed,
        "headers": [{"name": k, "value": v} for k, v in response.headers.items()],
    }


def download(http, mapper: dict) -> dict:
    """``http:DownloadFile``: fetch the file (streamed, never whole in memory) into a buffer
    that stands for its bytes: ``{"__buffer__": true, "size", "sha256"}``."""
    url = _url(mapper.get("url"))
    digest, size = hashlib.sha256(), 0
    try:
        with http.stream("GET", url, headers={"User-Agent": "Make/production"}) as response:
            if not 200 <= response.status_code < 300:
                if mapper.get("stopOnHttpError") is True:
                    raise ModuleError(
                        "RuntimeError", f"[{response.status_code}] download refused", code=str(response.status_code)
                    )
                return {"statusCode": response.status_code, "data": None, "fileName": None}
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            disposition = response.headers.get("content-disposition", "")
    except ModuleError:
        raise
    except Exception as exc:
        raise ModuleError("ConnectionError", f"{type(exc).__name__}: {exc}") from exc
    name = (
        disposition.split("filename=", 1)[1].strip('"; ')
        if "filename=" in disposition
        else os.path.basename(urlsplit(url).path) or "file"
    )
    return {
        "statusCode": response.status_code,
        "fileName": name,
        "data": {"__buffer__": True, "size": size, "sha256": digest.hexdigest()},
    }


def _url(value) -> str:
    url = to_text(value)
    if not url.startswith(("http://", "https://")):
        raise ModuleError("DataError", f"url {url!r} is not an http(s) URL")
    return url


def check_input(module: catalogue.Module, mapper: dict, connection: dict | None) -> None:
    """Make's bundle validation of a network module's rendered input."""
    if connection is None:
        raise ModuleError("InvalidConfigurationError", "the connection does not exist")
    if connection.get("accountName") not in module.connection:
        raise ModuleError(
            "InvalidConfigurationError",
            f"connection {connection['id']} is a {connection.get('accountName')} "
            f"connection; {module.id} needs {' or '.join(module.connection)}",
        )
    missing = [
        spec.name
        for spec in module.mapper
        if spec.required
        and (spec.when is None or mapper.get(spec.when[0]) == spec.when[1])
        and mapper.get(spec.name) in (None, "", [], {})
    ]
    for (module_id, name), fields in catalogue.NESTED_REQUIRED.items():
        if module_id == module.id and isinstance(mapper.get(name), dict):
            missing += [f"{name}.{f}" for f in fields if mapper[name].get(f) in (None, "", {})]
    if missing:
        raise ModuleError(
            "DataError",
            f"Validation failed for {len(missing)} parameter(s). Missing value of required parameter '{missing[0]}'.",
        )
    for spec in module.mapper:
        value = mapper.get(spec.name)
        if spec.enum and value not in (None, "") and value not in spec.enum:
            raise ModuleError(
                "DataError", f"Value {value!r} of parameter '{spec.name}' is not one of {', '.join(spec.enum)}."
            )
        if spec.type == "url" and value not in (None, "") and not to_text(value).startswith(("http://", "https://")):
            raise ModuleError("DataError", f"Parameter '{spec.name}' must be a URL.")
    _check_media(module.id, mapper)


def _check_media(module_id: str, mapper: dict) -> None:
    if module_id == "facebook-pages:CreatePostWithPhotos":
        photos = mapper.get("photos")
        if (
            not isinstance(photos, list)
            or not 1 <= len(photos) <= 30
            or not all(isinstance(p, dict) and p.get("type") in ("url", "data") for p in photos)
        ):
            raise ModuleError("DataError", "photos must be 1 to 30 items, each {type: url|data}")
    if module_id == "youtube:uploadVideo" and not is_buffer((mapper.get("file") or {}).get("data")):
        raise ModuleError("DataError", "file.data must be the file's data (a buffer), not text")


def new_post_id(module_id: str, mapper: dict, random_digits) -> str:
    app = module_id.split(":", 1)[0]
    if app == "facebook-pages":
        return f"{to_text(mapper.get('page_id'))}_{random_digits(15)}"
    if app == "linkedin":
        return f"urn:li:share:{random_digits(19)}"
    if app == "youtube":
        number = int(random_digits(18))
        return "".join(_YOUTUBE_ALPHABET[(number >> (6 * i)) % 64] for i in range(11))
    return random_digits(17)


def post_record(module_id: str, external_id: str, **fields) -> dict:
    app = module_id.split(":", 1)[0]
    url = _POST_URLS.get(app, f"https://{app}.example.invalid/posts/{{id}}").format(id=external_id)
    return {
        "module": module_id,
        "external_id": external_id,
        "external_url": url,
        "published_at": utc_now_iso(),
        **fields,
    }
