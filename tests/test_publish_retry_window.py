"""Transient webhook failures are retried for a duration, `PUBLISH_RETRY_WINDOW_S` from the
first attempt, not a number of attempts (issue 16.7): an outage longer than the old eight
attempts ends with the publication published once, and only past the window does it fail, with
the last reason. Time is simulated by moving `first_attempt_at` back; nothing sleeps for long."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ContentObject, ObjectStatus, Publication, PublicationStatus as P, User
from app.models.base import utcnow
from app.publishing import manual, sender
from app.publishing.status import wrong_statuses
from tests.objects_support import make_objects, seed_campaign
from tests.publishing_stack import PublishingStack
from tests.test_publication_pipeline import approve_all, run_worker
from app.scheduler import Scheduler

OLD_MAX_ATTEMPTS = 8  # what PUBLISH_MAX_ATTEMPTS allowed: about four minutes of outage


# -- the rule, in process -------------------------------------------------------------------
@pytest.fixture
def closed_port_publication(app):
    """A publishing post whose one publication goes to a webhook nobody listens on (port 9:
    connection refused at once, a transient error)."""
    with app.app_context():
        seed = seed_campaign(platforms=(), extra_statuses=("ready",), media=0)
        [object_id] = make_objects(
            seed.campaign_id, [seed.scenarios["ready"]], [], 1, statuses=(ObjectStatus.APPROVED,)
        )
        publication = Publication(
            object_id=object_id,
            campaign_scenario_id=seed.scenarios["ready"],
            idempotency_key=f"o{object_id}-retry-window",
            fingerprint="sha256:00",
            next_attempt_at=utcnow(),
        )
        db.session.add(publication)
        db.session.commit()
        return publication.id


def move_first_attempt(app, publication_id: int, ago: timedelta) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Publication).where(Publication.id == publication_id).values(first_attempt_at=utcnow() - ago)
        )
        db.session.commit()


def row(app, publication_id: int) -> Publication:
    with app.app_context():
        publication = db.session.get(Publication, publication_id)
        db.session.expunge(publication)
        return publication


def test_the_first_claim_starts_the_window_and_later_ones_keep_it(app, closed_port_publication):
    with app.app_context():
        assert sender.send(closed_port_publication) == "retry"
    first = row(app, closed_port_publication).first_attempt_at
    assert first is not None and abs((utcnow() - first).total_seconds()) < 60
    with app.app_context():
        assert sender.send(closed_port_publication) == "retry"
    assert row(app, closed_port_publication).first_attempt_at == first


def test_transient_errors_are_retried_for_the_window_then_fail_with_the_last_reason(app, closed_port_publication):
    window = app.config["PUBLISH_RETRY_WINDOW_S"]
    assert window == 6 * 3600
    # Five hours into an outage, well past the old eight attempts: still retried.
    with app.app_context():
        sender.send(closed_port_publication)
        db.session.execute(
            sa.update(Publication)
            .where(Publication.id == closed_port_publication)
            .values(attempts=OLD_MAX_ATTEMPTS + 20)
        )
        db.session.commit()
    move_first_attempt(app, closed_port_publication, timedelta(hours=5))
    with app.app_context():
        assert sender.send(closed_port_publication) == "retry"
    publication = row(app, closed_port_publication)
    assert publication.status is P.PENDING and publication.last_error.startswith("ConnectError")
    # One second of window left, a back-off of 2 s or more: the last attempt is at the end of the window.
    move_first_attempt(app, closed_port_publication, timedelta(seconds=window - 1))
    with app.app_context():
        assert sender.send(closed_port_publication) == "retry"
    publication = row(app, closed_port_publication)
    assert publication.next_attempt_at == publication.first_attempt_at + timedelta(seconds=window)
    # Past the window: failed for good, with the reason; the post fails with it.
    move_first_attempt(app, closed_port_publication, timedelta(seconds=window + 1))
    with app.app_context():
        assert sender.send(closed_port_publication) == "failed"
    publication = row(app, closed_port_publication)
    assert publication.status is P.FAILED and publication.last_error.startswith("ConnectError")
    with app.app_context():
        assert db.session.get(ContentObject, publication.object_id).status is ObjectStatus.FAILED


def test_a_person_retrying_an_unknown_publication_gets_a_whole_window(app, closed_port_publication, make_user):
    """Sent, no callback in time (unknown), retried by a person two days later under the same
    key while the network is down: retried again, not failed at once for an old window."""
    with app.app_context():
        db.session.execute(
            sa.update(Publication)
            .where(Publication.id == closed_port_publication)
            .values(
                status=P.UNKNOWN,
                attempts=1,
                first_attempt_at=utcnow() - timedelta(days=2),
                sent_at=utcnow() - timedelta(days=2),
            )
        )
        db.session.commit()
        editor = db.session.get(User, make_user("editor")[0])
        manual.retry(closed_port_publication, actor=editor)
        db.session.commit()
    with app.app_context():
        assert sender.send(closed_port_publication) == "retry"
    assert row(app, closed_port_publication).status is P.PENDING


def test_backoff_doubles_up_to_its_cap_with_jitter(app):
    with app.app_context():
        base, cap = app.config["PUBLISH_BACKOFF_BASE_S"], app.config["PUBLISH_BACKOFF_MAX_S"]
        assert (base, cap) == (2, 300)
        delays = {attempt: [sender.backoff_seconds(attempt) for _ in range(200)] for attempt in (1, 2, 5, 9, 80, 5000)}
    assert all(0.8 * 2 <= d <= 1.2 * 2 for d in delays[1])
    assert all(0.8 * 32 <= d <= 1.2 * 32 for d in delays[5])
    for attempt in (9, 80, 5000):  # capped (2 x 2^8 = 512 > 300), then jittered: spread out
        assert all(0.8 * cap <= d <= 1.2 * cap for d in delays[attempt])
        assert len(set(delays[attempt])) > 100


# -- the outage, end to end (real worker, scheduler and Make emulator) ----------------------
@pytest.fixture(scope="module")
def stack(servers):
    stack = PublishingStack(servers, SCHEDULER_RELAY_INTERVAL_S=0.1)
    yield stack
    stack.close()


def rows_of(stack, object_ids) -> list[Publication]:
    with stack.app.app_context():
        rows = db.session.scalars(sa.select(Publication).where(Publication.object_id.in_(object_ids))).all()
        db.session.expunge_all()
        return rows


def test_an_outage_longer_than_the_old_attempts_ends_published_once(stack):
    """Make answers 503 for "an hour" (first attempts moved back an hour) and far more than
    eight attempts; then it recovers: each target published once, the post published, nothing
    failed or unknown for a person to retry."""
    approver, objects = stack.seed(objects=1, targets=2)
    stack.knobs(hook_fail_status=503, hook_fail_count=1_000_000)
    approve_all(stack, approver, objects)
    worker, scheduler = run_worker(stack), Scheduler(stack.app).start()
    try:
        stack.wait_for(lambda: min(p.attempts for p in rows_of(stack, objects)) >= 2, 30)
        with stack.app.app_context():
            db.session.execute(
                sa.update(Publication)
                .where(Publication.object_id.in_(objects))
                .values(first_attempt_at=sa.func.now() - sa.text("interval '1 hour'"))
            )
            db.session.commit()
        stack.wait_for(lambda: min(p.attempts for p in rows_of(stack, objects)) > OLD_MAX_ATTEMPTS + 2, 60)
        assert {p.status for p in rows_of(stack, objects)} <= {P.PENDING, P.SENDING}
        stack.knobs(hook_fail_status=None, hook_fail_count=0)  # Make is back
        stack.wait_for(lambda: {p.status for p in rows_of(stack, objects)} == {P.PUBLISHED}, 30)
    finally:
        scheduler.stop()
        worker.stop()
    keys = {p.idempotency_key for p in rows_of(stack, objects)}
    per_key = stack.emulator("posts")["per_key"]
    assert {key: per_key.get(key) for key in keys} == {key: 1 for key in keys}
    with stack.app.app_context():
        assert db.session.get(ContentObject, objects[0]).status is ObjectStatus.PUBLISHED
        assert wrong_statuses(objects) == []


def test_past_the_window_the_publication_fails_with_the_last_reason(stack):
    """A short window (3 s, back-off capped at 0.2 s): the row fails once the window from its
    first attempt has passed, not before, and not after a number of attempts."""
    stack.app.config["PUBLISH_RETRY_WINDOW_S"] = 3
    approver, objects = stack.seed(objects=1, targets=1)
    stack.knobs(hook_fail_status=503, hook_fail_count=1_000_000)
    approve_all(stack, approver, objects)
    worker, scheduler = run_worker(stack), Scheduler(stack.app).start()
    try:
        stack.wait_for(lambda: rows_of(stack, objects)[0].status is P.FAILED, 30)
    finally:
        scheduler.stop()
        worker.stop()
        stack.knobs(hook_fail_status=None, hook_fail_count=0)
        stack.app.config["PUBLISH_RETRY_WINDOW_S"] = 6 * 3600
    [publication] = rows_of(stack, objects)
    assert publication.last_error.startswith("HTTP 503")
    assert publication.completed_at - publication.first_attempt_at >= timedelta(seconds=3)
    assert publication.idempotency_key not in stack.emulator("posts")["per_key"]
    with stack.app.app_context():
        assert db.session.get(ContentObject, objects[0]).status is ObjectStatus.FAILED
        assert wrong_statuses(objects) == []
