"""Signed callbacks whose body can never apply: refused with 400 and a machine-readable reason,
never a 500, and nothing recorded; the ones that can apply still do (app.hooks.schema)."""

import json

import pytest

from app.extensions import db
from app.models import PublicationStatus
from tests.test_callbacks import FINGERPRINT, callback, publishing, recorded_events, state  # noqa: F401


def body_for(pub_id: int, **changes) -> dict:
    body = {
        "delivery_id": f"pub-{pub_id}",
        "idempotency_key": f"k-{pub_id}",
        "fingerprint": FINGERPRINT,
        "status": "published",
        "external_id": "17900000000000001",
        "external_url": "https://www.instagram.com/p/C1a2",
        "error": None,
        "sent_at": 1767261612,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def key_of(app, pub_id):
    from app.models import Publication

    with app.app_context():
        return db.session.get(Publication, pub_id).idempotency_key


def refused(client, pub_id, raw: bytes, reason: str, field: str | None = None):
    response = callback(client, pub_id, body=raw, apply=False)
    assert response.status_code == 400, response.get_data(as_text=True)
    expected = {"outcome": "malformed", "reason": reason, **({"field": field} if field else {})}
    assert response.json == expected
    assert recorded_events(client.application) == 0
    return response


# 16.3: bodies that passed the signature but are not a JSON object we can parse and store.
DEEP = b"[" * 30_000 + b"]" * 30_000
MALFORMED = {
    "deeply_nested_array": (DEEP, "too_deep"),
    "deeply_nested_objects": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "too_deep"),
    "nested_past_the_limit": (b'{"status":"published","x":' + b"[" * 9 + b"]" * 9 + b"}", "too_deep"),
    "nul_escaped_in_key": (
        b'{"delivery_id":"pub-1","idempotency_key":"k\\u0000","status":"published"}',
        "forbidden_character",
    ),
    "nul_in_an_extra_field": (b'{"note\\u0000":"x","status":"published"}', "forbidden_character"),
    "nul_in_error_message": (b'{"status":"failed","error":{"code":"E","message":"a\\u0000b"}}', "forbidden_character"),
    "raw_nul_byte": (b'{"status":"published","x":"a\x00b"}', "invalid_json"),
    "lone_surrogate": (b'{"status":"published","external_id":"\\ud800"}', "forbidden_character"),
    "invalid_utf8": (b'{"status":"published","external_id":"\xff\xfe"}', "invalid_utf8"),
    "utf16": ('{"status":"published"}'.encode("utf-16"), "invalid_utf8"),
    "utf8_bom": (b'\xef\xbb\xbf{"status":"published"}', "invalid_json"),
    "huge_integer": (b'{"status":"published","sent_at":' + b"9" * 5000 + b"}", "number_out_of_range"),
    "huge_float": (b'{"status":"published","sent_at":1e999}', "number_out_of_range"),
    "nan": (b'{"status":"published","sent_at":NaN}', "number_out_of_range"),
    "infinity": (b'{"status":"published","sent_at":-Infinity}', "number_out_of_range"),
    "duplicate_keys": (b'{"status":"failed","status":"published"}', "duplicate_key"),
    "top_level_array": (b'[{"status":"published"}]', "not_an_object"),
    "top_level_string": (b'"published"', "not_an_object"),
    "top_level_null": (b"null", "not_an_object"),
    "top_level_number": (b"42", "not_an_object"),
    "not_json": (b"not json", "invalid_json"),
    "empty": (b"", "invalid_json"),
    "truncated": (b'{"status":"published","delivery_id":"pub-', "invalid_json"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_signed_bodies_are_refused_and_not_recorded(app, client, publishing, case):
    raw, reason = MALFORMED[case]
    refused(client, publishing["publications"][0], raw, reason)


# 16.2: well-formed JSON whose fields could never apply.
SHAPES = {
    "error_is_a_string": ({"status": "failed", "error": "MEDIA_REJECTED"}, "invalid_field", "error"),
    "error_is_a_list": ({"status": "failed", "error": ["E", "m"]}, "invalid_field", "error"),
    "error_code_is_an_object": (
        {"status": "failed", "error": {"code": {"a": 1}, "message": "m"}},
        "invalid_field",
        "error",
    ),
    "error_message_is_a_number": ({"status": "failed", "error": {"code": "E", "message": 3}}, "invalid_field", "error"),
    "external_url_is_a_number": ({"external_url": 42}, "invalid_field", "external_url"),
    "external_url_is_an_object": ({"external_url": {"href": "https://a.example"}}, "invalid_field", "external_url"),
    "external_id_is_a_boolean": ({"external_id": True}, "invalid_field", "external_id"),
    "external_id_is_an_object": ({"external_id": {"id": 1}}, "invalid_field", "external_id"),
    "external_id_too_long": ({"external_id": "1" * 256}, "invalid_field", "external_id"),
    "unknown_status": ({"status": "done"}, "unknown_status", "status"),
    "status_is_a_number": ({"status": 1}, "unknown_status", "status"),
    "status_missing": ({"status": ...}, "missing_field", "status"),
    "delivery_id_missing": ({"delivery_id": ...}, "missing_field", "delivery_id"),
    "delivery_id_is_a_number": ({"delivery_id": 981}, "invalid_field", "delivery_id"),
    "delivery_id_empty": ({"delivery_id": ""}, "invalid_field", "delivery_id"),
    "idempotency_key_missing": ({"idempotency_key": ...}, "missing_field", "idempotency_key"),
    "idempotency_key_is_null": ({"idempotency_key": None}, "invalid_field", "idempotency_key"),
    "fingerprint_is_a_list": ({"fingerprint": ["sha256:ab"]}, "invalid_field", "fingerprint"),
    "sent_at_is_text": ({"sent_at": "yesterday"}, "invalid_field", "sent_at"),
}


@pytest.mark.parametrize("case", SHAPES)
def test_fields_that_can_never_apply_are_refused(app, client, publishing, case):
    pub = publishing["publications"][0]
    changes, reason, field = SHAPES[case]
    raw = json.dumps(body_for(pub, **{"idempotency_key": key_of(app, pub), **changes})).encode()
    refused(client, pub, raw, reason, field)
    assert state(app, pub)[0] is PublicationStatus.SENT


# 16.4: the post's address is shown as a link; only a web address is kept.
UNSAFE_URLS = [
    "javascript:alert(document.cookie)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "/p/relative",
    "//evil.example/p",
    "https://www.instagram.com/p/" + "a" * 2100,
    "https://user:pw@www.instagram.com/p/1",
    "https://www.instagram.com/p/1\n",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_external_urls_are_refused(app, client, publishing, url):
    pub = publishing["publications"][0]
    raw = json.dumps(body_for(pub, idempotency_key=key_of(app, pub), external_url=url)).encode()
    refused(client, pub, raw, "invalid_field", "external_url")


def test_http_addresses_only_where_the_app_runs_locally(app, client, publishing, monkeypatch):
    first, second = publishing["publications"]
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    raw = json.dumps(body_for(first, idempotency_key=key_of(app, first), external_url="http://a.example/p")).encode()
    refused(client, first, raw, "invalid_field", "external_url")
    monkeypatch.setitem(app.config, "APP_ENV", "development")
    raw = json.dumps(
        body_for(second, idempotency_key=key_of(app, second), external_url="http://127.0.0.1:5010/p/1")
    ).encode()
    assert callback(client, second, body=raw).status_code == 200
    with app.app_context():
        from app.models import Publication

        assert db.session.get(Publication, second).external_url == "http://127.0.0.1:5010/p/1"


@pytest.mark.parametrize(
    "changes",
    [
        {"external_url": ""},  # a network module with no address output: mapped as ""
        {"external_url": None, "external_id": None},
        {"external_id": 17900000000000001},  # a numeric id mapped without quotes
        {"external_id": ""},
        {"error": ..., "sent_at": ..., "fingerprint": ...},  # only the required fields, plus a status
        {"sent_at": "1767261612", "scenario_id": 4521, "execution_id": "a1b2c3"},
        {"unknown_extra": {"nested": [1, 2, {"ok": True}]}},  # additive fields are ignored
    ],
    ids=["empty_url", "no_address", "numeric_id", "empty_id", "minimal", "make_ids", "extra_field"],
)
def test_bodies_that_can_apply_are_recorded_and_applied(app, client, publishing, changes):
    pub = publishing["publications"][0]
    body = body_for(pub, **{"idempotency_key": key_of(app, pub), **changes})
    response = callback(client, pub, body=json.dumps(body).encode())
    assert response.status_code == 200 and response.json == {"outcome": "accepted"}
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED


def test_a_failed_callback_with_its_error_object_applies(app, client, publishing):
    pub = publishing["publications"][0]
    body = body_for(
        pub,
        idempotency_key=key_of(app, pub),
        status="failed",
        external_id=None,
        external_url=None,
        error={"code": "", "message": "L'image est trop \u00e9troite\n\"4:5\""},
    )
    assert callback(client, pub, body=json.dumps(body, ensure_ascii=False).encode()).status_code == 200
    assert state(app, pub)[0] is PublicationStatus.FAILED


def test_a_refused_body_leaves_room_for_the_good_one(app, client, publishing):
    """Make retries after a 400 with the same webhook id only if the body was fixed: nothing was
    recorded under that id, so the corrected callback is accepted."""
    pub = publishing["publications"][0]
    bad = json.dumps(body_for(pub, idempotency_key=key_of(app, pub), error="oops", status="failed")).encode()
    refused(client, pub, bad, "invalid_field", "error")
    good = json.dumps(body_for(pub, idempotency_key=key_of(app, pub))).encode()
    assert callback(client, pub, body=good).json == {"outcome": "accepted"}
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED


def test_the_schema_names_every_field_the_apply_side_reads():
    """app.publishing.results reads these fields of the recorded body: each is checked here."""
    from app.hooks import schema

    assert {"status", "idempotency_key", "fingerprint", "external_id", "external_url", "error"} <= set(schema.FIELDS)
    assert set(schema.STATUSES) == {"published", "failed", "dry_run_ok"}


@pytest.mark.parametrize("webhook_id", ["pub-1.1767261612", "pub-1:published:\x7f", "pub 1", "p" * 201])
def test_webhook_ids_that_could_shift_the_signed_text_are_refused(app, client, publishing, webhook_id):
    pub = publishing["publications"][0]
    response = callback(client, pub, webhook_id=webhook_id, apply=False)
    assert response.status_code == 401
    assert recorded_events(app) == 0
