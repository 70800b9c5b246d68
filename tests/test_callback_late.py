"""Late callbacks are not lost: Make's `Break` retries re-run the callback module hours later
with the timestamp of the first run. Accepted up to CALLBACK_MAX_AGE_S (48 h) old, once;
refused past it, and when more than 5 minutes in the future."""

import time

import pytest

from app.hooks import signature
from app.models import ObjectStatus, PublicationStatus
from tests.conftest import CALLBACK_SECRET
from tests.test_callbacks import callback, outcome_of, publishing, state  # noqa: F401

HOUR = 3600


def test_the_default_max_age_is_48_hours(app):
    assert app.config["CALLBACK_MAX_AGE_S"] == 48 * HOUR


def test_a_callback_three_hours_late_is_accepted_once(app, client, publishing):
    pub = publishing["publications"][0]
    first = callback(client, pub, age=3 * HOUR)
    assert first.status_code == 200 and first.json == {"outcome": "accepted"}
    assert outcome_of(app, f"pub-{pub}:published:1") == "applied"
    assert state(app, pub)[0] is PublicationStatus.PUBLISHED
    replay = callback(client, pub, age=3 * HOUR)  # the same signed request, captured and replayed
    assert replay.status_code == 200 and replay.json == {"outcome": "duplicate"}
    assert state(app, pub)[3] == 1  # recorded once


def test_a_break_retry_after_the_callback_was_refused_still_counts(app, client, publishing):
    """The first run's callback met an outage (nothing recorded); the Break retry 47 h later
    resends the same webhook id and timestamp: it is the one that records the result."""
    first, second = publishing["publications"]
    callback(client, first)
    assert callback(client, second, age=47 * HOUR).json == {"outcome": "accepted"}
    assert state(app, second)[2] is ObjectStatus.PUBLISHED


def test_a_late_callback_settles_a_publication_already_marked_unknown(app, client, publishing):
    """30 minutes without an answer made the publication `unknown`; Make's retry 3 h later
    still brings the result in."""
    from app.extensions import db
    from app.models import Publication

    pub = publishing["publications"][0]
    with app.app_context():
        db.session.get(Publication, pub).status = PublicationStatus.UNKNOWN
        db.session.commit()
    assert callback(client, pub, age=3 * HOUR).json == {"outcome": "accepted"}
    assert state(app, pub)[:2] == (PublicationStatus.PUBLISHED, f"ext-{pub}")


@pytest.mark.parametrize(
    "age, expected",
    [(49 * HOUR, 401), (-6 * 60, 401), (-4 * 60, 200), (6 * 60, 200), (47 * HOUR, 200)],
    ids=["49_h_old", "6_min_future", "4_min_future", "6_min_old", "47_h_old"],
)
def test_freshness_window(app, client, publishing, age, expected):
    pub = publishing["publications"][0]
    assert callback(client, pub, age=age, apply=False).status_code == expected
    assert state(app, pub)[3] == (1 if expected == 200 else 0)


def test_the_window_follows_the_setting(app, client, publishing, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_MAX_AGE_S", 2 * HOUR)
    first, second = publishing["publications"]
    assert callback(client, first, age=3 * HOUR, apply=False).status_code == 401
    assert callback(client, second, age=HOUR, apply=False).status_code == 200


@pytest.mark.parametrize(
    "timestamp", ["+1767261612", " 1767261612", "1_767_261_612", "1767261612.5", "\u0661\u0667\u0666\u0667", "9" * 5000]
)
def test_timestamps_that_are_not_plain_unix_seconds_are_refused(timestamp):
    headers = {"webhook-id": "pub-1:published:1", "webhook-timestamp": timestamp}
    headers["webhook-signature"] = signature.sign(CALLBACK_SECRET, headers["webhook-id"], timestamp, b"{}")
    with pytest.raises(signature.SignatureError):
        signature.verify(headers, b"{}", [CALLBACK_SECRET], max_age=48 * HOUR, now=time.time())
