"""POST /hooks/make: signed, deduplicated, recorded by the request and applied by the
`apply_callbacks` actor, forward-only; bad callbacks change nothing.

The app fixture's changes live in a transaction a worker cannot see, so these tests run the
actor's function in-process on what the request recorded; the real worker path is proven in
tests/test_publication_pipeline.py."""

import json
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.hooks.signature import sign
from app.publishing import results
from app.tasks.callbacks import apply_callbacks
from app.models import (
    AuditEvent,
    CallbackEvent,
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus,
    SocialAccount,
)
from tests.conftest import CALLBACK_SECRET

FINGERPRINT = "sha256:" + "ab" * 32


@pytest.fixture
def publishing(app):
    """An object being published to two targets, each publication `sent`."""
    with app.app_context():
        campaign = Campaign(name="Salon 2026")
        obj = ContentObject(campaign=campaign, title="Teaser", message="Rendez-vous", status=ObjectStatus.PUBLISHING)
        db.session.add(obj)
        pubs = []
        for n, platform in enumerate((Platform.INSTAGRAM, Platform.FACEBOOK)):
            account = SocialAccount(
                platform=platform,
                label=platform.value,
                make_connection_id=70 + n,
                account_identifier=f"1784140000000{n}",
            )
            db.session.add(account)
            db.session.flush()
            scenario = CampaignScenario(campaign=campaign, social_account_id=account.id, status="ready")
            db.session.add(scenario)
            db.session.flush()
            pub = Publication(
                object_id=obj.id,
                campaign_scenario_id=scenario.id,
                fingerprint=FINGERPRINT,
                idempotency_key=f"k-{scenario.id}-g1",
                status=PublicationStatus.SENT,
            )
            db.session.add(pub)
            db.session.flush()
            pubs.append(pub.id)
        db.session.commit()
        return {"object": obj.id, "publications": pubs}


def apply_pending(app) -> list[str | None]:
    """What the relay and the worker do with recorded events: apply each pending one, oldest
    first; their outcomes."""
    with app.app_context():
        pending = db.session.scalars(
            sa.select(CallbackEvent.id).where(CallbackEvent.applied_at.is_(None)).order_by(CallbackEvent.id)
        ).all()
        db.session.rollback()
    outcomes = []
    for event_id in pending:
        with app.app_context():
            apply_callbacks([event_id])
        outcomes.append(outcome_of(app, event_id))
    return outcomes


def outcome_of(app, event: int | str):
    """The recorded outcome of an event, by id or webhook id."""
    column = CallbackEvent.id if isinstance(event, int) else CallbackEvent.webhook_id
    with app.app_context():
        return db.session.scalar(sa.select(CallbackEvent.outcome).where(column == event))


def recorded_events(app) -> int:
    """How many callbacks were recorded."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CallbackEvent))


def callback(
    client,
    pub_id,
    status="published",
    *,
    secret=CALLBACK_SECRET,
    attempt=1,
    age=0,
    fingerprint=FINGERPRINT,
    key=None,
    webhook_id=None,
    body=None,
    apply=True,
):
    with client.application.app_context():
        publication = db.session.get(Publication, pub_id)
        key = key or publication.idempotency_key
    payload = {
        "delivery_id": f"pub-{pub_id}",
        "idempotency_key": key,
        "fingerprint": fingerprint,
        "status": status,
        "external_id": f"ext-{pub_id}" if status == "published" else None,
        "external_url": f"https://www.instagram.com/p/{pub_id}" if status == "published" else None,
        "error": {"code": "MEDIA_REJECTED", "message": "Aspect ratio"} if status == "failed" else None,
        "sent_at": int(time.time()),
    }
    raw = body if body is not None else json.dumps(payload).encode()
    webhook_id = webhook_id or f"pub-{pub_id}:{status}:{attempt}"
    timestamp = str(int(time.time()) - age)
    response = client.post(
        "/hooks/make",
        data=raw,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(secret, webhook_id, timestamp, raw),
        },
    )
    if apply:
        apply_pending(client.application)
    return response


def state(app, pub_id):
    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        obj = db.session.get(ContentObject, pub.object_id)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(CallbackEvent))
        return pub.status, pub.external_id, obj.status, events


def test_valid_callbacks_publish_and_the_object_follows(app, client, publishing):
    first, second = publishing["publications"]
    assert callback(client, first).status_code == 200
    assert state(app, first)[:3] == (PublicationStatus.PUBLISHED, f"ext-{first}", ObjectStatus.PUBLISHING)
    assert callback(client, second).status_code == 200
    assert state(app, second)[2] is ObjectStatus.PUBLISHED
    with app.app_context():
        history = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.subject_type == "content_objects")
        ).all()
    assert history == ["status:published"]


def test_a_failed_target_fails_the_object_once_nothing_is_in_flight(app, client, publishing):
    first, second = publishing["publications"]
    callback(client, first, "failed")
    assert state(app, first)[2] is ObjectStatus.PUBLISHING  # the other target is still in flight
    callback(client, second)
    status, _, obj_status, _ = state(app, first)
    assert status is PublicationStatus.FAILED and obj_status is ObjectStatus.FAILED
    with app.app_context():
        assert db.session.get(Publication, first).last_error == "MEDIA_REJECTED: Aspect ratio"


def test_duplicates_are_acknowledged_and_ignored(app, client, publishing):
    pub = publishing["publications"][0]
    assert callback(client, pub).status_code == 200
    replay = callback(client, pub)
    assert replay.status_code == 200 and replay.json == {"outcome": "duplicate"}
    assert state(app, pub)[3] == 1  # recorded once


def test_statuses_only_move_forward(app, client, publishing):
    pub = publishing["publications"][0]
    callback(client, pub, "published", attempt=2)
    late = callback(client, pub, "failed", attempt=1)  # an older attempt's failure arrives late
    assert late.status_code == 200 and late.json == {"outcome": "accepted"}
    assert outcome_of(app, f"pub-{pub}:failed:1") == "stale"
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED


def test_reordered_events_applied_by_the_actor_in_any_order(app, client, publishing):
    """Both events recorded before the worker runs, the newer applied first: same result."""
    pub = publishing["publications"][0]
    callback(client, pub, "failed", attempt=1, apply=False)
    callback(client, pub, "published", attempt=2, apply=False)
    with app.app_context():
        ids = db.session.scalars(sa.select(CallbackEvent.id).order_by(CallbackEvent.id.desc())).all()
    with app.app_context():
        apply_callbacks(ids)  # one message for both, the newer first
    assert outcome_of(app, f"pub-{pub}:published:2") == "applied"
    assert outcome_of(app, f"pub-{pub}:failed:1") == "stale"
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED


@pytest.mark.parametrize("tamper", ["bad_secret", "older_than_max_age", "future_6_min", "body_changed", "no_signature"])
def test_bad_callbacks_change_nothing(app, client, publishing, tamper):
    pub = publishing["publications"][0]
    if tamper == "bad_secret":
        response = callback(client, pub, secret="not-the-secret")
    elif tamper == "older_than_max_age":
        response = callback(client, pub, age=app.config["CALLBACK_MAX_AGE_S"] + 60)
    elif tamper == "future_6_min":
        response = callback(client, pub, age=-6 * 60)
    elif tamper == "body_changed":
        ts = str(int(time.time()))
        signed = sign(CALLBACK_SECRET, "pub-x:published:1", ts, b'{"status":"failed"}')
        response = client.post(
            "/hooks/make",
            data=b'{"status":"published"}',
            headers={"webhook-id": "pub-x:published:1", "webhook-timestamp": ts, "webhook-signature": signed},
        )
    else:
        response = client.post("/hooks/make", json={"delivery_id": f"pub-{pub}", "status": "published"})
    assert response.status_code == 401
    assert state(app, pub) == (PublicationStatus.SENT, None, ObjectStatus.PUBLISHING, 0)


def test_previous_secret_is_accepted_during_a_rotation(app, client, publishing, monkeypatch):
    monkeypatch.setitem(app.config, "MAKE_CALLBACK_SECRET", "a-brand-new-secret-0123456789abcdef")
    monkeypatch.setitem(app.config, "MAKE_CALLBACK_SECRET_PREVIOUS", CALLBACK_SECRET)
    pub = publishing["publications"][0]
    assert callback(client, pub).status_code == 200
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED


def test_oversized_body_is_refused(app, client, publishing):
    pub = publishing["publications"][0]
    big = json.dumps({"status": "published", "padding": "x" * 70_000}).encode()
    assert callback(client, pub, body=big).status_code == 413
    assert state(app, pub)[3] == 0


@pytest.mark.parametrize("delivery", ["wrong_key", "no_such_id", "not_a_pub_id"])
def test_unknown_publication_is_recorded_and_answered_404(app, client, publishing, delivery):
    pub = publishing["publications"][0]
    if delivery == "wrong_key":
        response = callback(client, pub, key="someone-elses-key", apply=False)
    else:
        body = {
            "delivery_id": "pub-999999999" if delivery == "no_such_id" else "pub-x1",
            "idempotency_key": "k",
            "status": "published",
        }
        response = callback(client, pub, body=json.dumps(body).encode(), apply=False)
    assert response.status_code == 404
    with app.app_context():
        event = db.session.scalar(sa.select(CallbackEvent))
        assert event.outcome == "unknown_publication" and event.publication_id is None
        assert event.applied_at is not None  # settled in the request: nothing for the actor
    assert state(app, pub)[0] is PublicationStatus.SENT


def test_fingerprint_mismatch_is_flagged(app, client, publishing):
    pub = publishing["publications"][0]
    assert callback(client, pub, fingerprint="sha256:" + "00" * 32).status_code == 200
    assert outcome_of(app, f"pub-{pub}:published:1") == "fingerprint_mismatch"
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED  # the result is kept, flagged
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "fingerprint_mismatch"))


def test_rate_limited_per_ip(app, client, publishing, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_RATE_LIMIT_PER_MINUTE", 3)
    pub = publishing["publications"][0]
    codes = [callback(client, pub, attempt=n).status_code for n in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_malformed_json_with_a_valid_signature(app, client, publishing):
    pub = publishing["publications"][0]
    assert callback(client, pub, body=b"not json").status_code == 400


def test_the_request_records_pending_and_the_actor_applies_once(app, client, publishing):
    pub = publishing["publications"][0]
    response = callback(client, pub, apply=False)
    assert response.status_code == 200 and response.json == {"outcome": "accepted"}
    with app.app_context():
        event = db.session.scalar(sa.select(CallbackEvent))
        assert (event.outcome, event.applied_at, event.publication_id) == ("pending", None, pub)
        event_id = event.id
    assert state(app, pub)[0] is PublicationStatus.SENT  # nothing applied in the request
    with app.app_context():
        assert results.apply(event_id) == "applied"
    with app.app_context():
        assert results.apply(event_id) is None  # a second delivery of the message: a no-op
        audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        event = db.session.get(CallbackEvent, event_id)
        assert event.outcome == "applied" and event.applied_at is not None
    assert state(app, pub)[:2] == (PublicationStatus.PUBLISHED, f"ext-{pub}")
    assert callback(client, pub).json == {"outcome": "duplicate"}  # Make's retry, after the fact
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == audits


def test_recorded_events_are_handed_over_at_once_then_again_once_per_period(app, client, publishing):
    first, second = publishing["publications"]
    callback(client, first, apply=False)
    callback(client, second, apply=False)
    broker = app.extensions["dramatiq"]
    with app.app_context():
        assert results.hand_over_due() == 2  # due at once, in one message
        assert results.hand_over_due() == 0  # handed over: not again at every tick
        queued = broker.client.hlen(f"{broker.namespace}:callbacks.msgs")  # messages waiting
        db.session.execute(sa.update(CallbackEvent).values(requeue_at=sa.func.now() - sa.text("interval '1 s'")))
        db.session.commit()
    with app.app_context():
        assert results.hand_over_due() == 2  # still pending after CALLBACK_REQUEUE_AFTER_S: again
    assert queued == 1
    assert apply_pending(app) == ["applied", "applied"]
    with app.app_context():
        db.session.execute(sa.update(CallbackEvent).values(requeue_at=sa.func.now() - sa.text("interval '1 s'")))
        db.session.commit()
        assert results.hand_over_due() == 0  # applied events are never handed over again
    broker.flush("callbacks")
