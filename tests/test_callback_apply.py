"""Applying recorded callbacks: one event that cannot apply never holds the others.

The endpoint refuses malformed shapes (tests/test_callbacks.py), but events recorded before
that rule, or values only the database refuses, must still not block their batch: each event
applies in its own savepoint, a failure is counted with its error, and after
CALLBACK_MAX_APPLY_ATTEMPTS the event is set aside as `could_not_apply` and listed on the
publishing health page. The events are recorded the way the request records them (a pending
row), then the `apply_callbacks` actor's function runs in-process."""

import json
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CallbackEvent, Campaign, ContentObject, ObjectStatus, Platform, Publication, PublicationStatus
from app.models.base import utcnow
from app.publishing import results
from app.tasks.callbacks import apply_callbacks
from tests.targets_support import add_target

FINGERPRINT = "sha256:" + "cd" * 32


@pytest.fixture
def publishing(app):
    """One post being published to Instagram and Facebook, both publications `sent`."""
    with app.app_context():
        campaign = Campaign(name="Rentrée")
        obj = ContentObject(
            campaign=campaign, title="Affiche de rentrée", message="Bientôt", status=ObjectStatus.PUBLISHING
        )
        db.session.add(obj)
        pubs = []
        for platform in (Platform.INSTAGRAM, Platform.FACEBOOK):
            scenario = add_target(campaign, platform, f"Compte {platform.value}")
            pub = Publication(
                object_id=obj.id,
                campaign_scenario_id=scenario,
                fingerprint=FINGERPRINT,
                idempotency_key=f"apply-{scenario}-g1",
                status=PublicationStatus.SENT,
            )
            db.session.add(pub)
            db.session.flush()
            pubs.append(pub.id)
        db.session.commit()
        return {"object": obj.id, "publications": pubs}


def record(app, pub_id: int, status: str, **fields) -> int:
    """A pending event as the request records it (raw body kept as received)."""
    with app.app_context():
        key = db.session.get(Publication, pub_id).idempotency_key
        payload = {
            "delivery_id": f"pub-{pub_id}",
            "idempotency_key": key,
            "fingerprint": FINGERPRINT,
            "status": status,
            "sent_at": int(time.time()),
        } | fields
        now = utcnow()
        event = CallbackEvent(
            webhook_id=f"pub-{pub_id}:{status}:{time.monotonic_ns()}",
            publication_id=pub_id,
            status=status,
            outcome="pending",
            raw_body=json.dumps(payload),
            received_at=now,
            requeue_at=now,
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def event_row(app, event_id: int) -> CallbackEvent:
    with app.app_context():
        event = db.session.get(CallbackEvent, event_id)
        db.session.expunge(event)
        return event


def publication_status(app, pub_id: int) -> PublicationStatus:
    with app.app_context():
        return db.session.get(Publication, pub_id).status


def run_actor(app, ids: list[int]) -> None:
    with app.app_context():
        apply_callbacks(ids)


POISONS = {
    # A signed callback whose `error` is a string: AttributeError in the old code, every retry.
    "error_as_string": ("failed", {"error": "Media rejected"}),
    # A value only the database refuses (NUL in text): psycopg DataError at flush.
    "nul_in_id": ("published", {"external_id": "17841\u00004", "external_url": "https://x.example/p"}),
    # An unknown status recorded before the endpoint checked it.
    "unknown_status": ("deleted", {}),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poison_event_does_not_hold_its_batch_and_is_set_aside(app, client, auth, publishing, poison):
    bad_pub, good_pub = publishing["publications"]
    status, fields = POISONS[poison]
    bad = record(app, bad_pub, status, **fields)
    good = record(app, good_pub, "published", external_id="ok-1", external_url="https://www.facebook.com/p/1")

    run_actor(app, [bad, good])  # the poison first: the good one still applies in this run
    assert event_row(app, good).outcome == "applied"
    assert publication_status(app, good_pub) is PublicationStatus.PUBLISHED
    first = event_row(app, bad)
    assert (first.outcome, first.applied_at, first.attempts) == ("pending", None, 1)
    assert first.last_error and "\x00" not in first.last_error
    assert publication_status(app, bad_pub) is PublicationStatus.SENT  # its savepoint rolled back

    limit = app.config["CALLBACK_MAX_APPLY_ATTEMPTS"]
    for _ in range(limit - 2):
        run_actor(app, [bad])
    assert event_row(app, bad).outcome == "pending"  # one attempt short of the limit
    run_actor(app, [bad])
    aside = event_row(app, bad)
    assert (aside.outcome, aside.attempts) == ("could_not_apply", limit)
    assert aside.applied_at is not None
    assert publication_status(app, bad_pub) is PublicationStatus.SENT
    with app.app_context():
        db.session.execute(sa.update(CallbackEvent).values(requeue_at=utcnow()))
        db.session.commit()
        assert results.hand_over_due() == 0  # the relay stops handing it over
    app.extensions["dramatiq"].flush("callbacks")

    auth.login("admin")  # visible on the publishing health page, in words
    html = client.get("/hooks/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    card = html[html.index(f'data-testid="could-not-apply-{bad}"') :]
    card = card[: card.index("</li>")]
    assert "Affiche de rentrée" in card and "Instagram · Compte instagram" in card
    assert "could not be applied" in card and f"<code>{status}</code>" in card


def test_the_attempt_limit_is_a_setting(app, publishing, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_MAX_APPLY_ATTEMPTS", 1)
    bad = record(app, publishing["publications"][0], "failed", error=["not", "an", "object"])
    run_actor(app, [bad])
    assert event_row(app, bad).outcome == "could_not_apply"


def test_an_event_that_applies_after_a_failure_keeps_its_count(app, publishing):
    """A failure that goes away (here: the publication's lock order) still applies normally."""
    pub = publishing["publications"][0]
    event = record(app, pub, "published", external_id="x", external_url="https://www.instagram.com/p/x")
    with app.app_context():
        db.session.execute(
            sa.update(CallbackEvent)
            .where(CallbackEvent.id == event)
            .values(attempts=2, last_error="OperationalError: deadlock detected")
        )
        db.session.commit()
    run_actor(app, [event])
    row = event_row(app, event)
    assert (row.outcome, row.attempts) == ("applied", 2)
    assert publication_status(app, pub) is PublicationStatus.PUBLISHED


def test_an_unsafe_address_recorded_before_the_rule_is_not_kept(app, publishing):
    pub = publishing["publications"][0]
    event = record(app, pub, "published", external_id="9", external_url="javascript:alert(document.domain)")
    run_actor(app, [event])
    with app.app_context():
        publication = db.session.get(Publication, pub)
        assert (publication.status, publication.external_url) == (PublicationStatus.PUBLISHED, None)
