"""Approve -> outbox -> relay -> publish actor -> Make emulator -> signed callback -> published,
on a real broker (Redis and RabbitMQ, each test on both) with a real Dramatiq worker. Nothing
lost, nothing published twice."""

import dramatiq
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CallbackEvent, ContentObject, ObjectStatus, Publication, PublicationStatus, User
from app.publishing import relay, results
from app.reviews import service as reviews
from app.scheduler import Scheduler
from app.tasks import queue_name
from tests.brokers import broker_settings
from tests.publishing_stack import PublishingStack


@pytest.fixture(params=["redis", "rabbitmq"])
def stack(servers, request):
    stack = PublishingStack(servers, SCHEDULER_RELAY_INTERVAL_S=0.1, **broker_settings(request.param))
    yield stack
    stack.close()


def approve_all(stack, approver_id, object_ids):
    with stack.app.app_context():
        approver = db.session.get(User, approver_id)
        for obj in db.session.scalars(sa.select(ContentObject).where(ContentObject.id.in_(object_ids))):
            reviews.approve(obj, by=approver)
        db.session.commit()


def publication_statuses(stack):
    with stack.app.app_context():
        return dict(
            db.session.execute(sa.select(Publication.status, sa.func.count()).group_by(Publication.status)).all()
        )


def publish_until(stack, statuses: dict, timeout: float = 30) -> None:
    """Run a real worker and the scheduler until the publications reach `statuses`."""
    worker, scheduler = run_worker(stack), Scheduler(stack.app).start()
    try:
        stack.wait_for(lambda: publication_statuses(stack) == statuses, timeout)
    finally:
        scheduler.stop()
        worker.stop()


def run_worker(stack, threads=2, queues=None):
    if queues is not None:
        queues = {queue_name(stack.app, queue) for queue in queues}
    worker = dramatiq.Worker(stack.app.extensions["dramatiq"], worker_threads=threads, queues=queues)
    worker.start()
    return worker


def test_approve_publishes_once_through_make(stack):
    approver, objects = stack.seed(objects=1, targets=2)
    approve_all(stack, approver, objects)
    assert publication_statuses(stack) == {PublicationStatus.PENDING: 2}  # the outbox, same transaction
    publish_until(stack, {PublicationStatus.PUBLISHED: 2})
    with stack.app.app_context():
        obj = db.session.get(ContentObject, objects[0])
        assert obj.status is ObjectStatus.PUBLISHED
        pubs = db.session.scalars(sa.select(Publication)).all()
        assert all(p.external_id and p.external_url and p.attempts == 1 for p in pubs)
    posts = stack.emulator("posts")
    assert posts["max_per_key"] == 1 and len(posts["posts"]) == 2
    assert set(stack.emulator("deliveries")["per_key"].values()) == {1}


def test_webhook_answering_500_then_200_publishes_after_retries(stack):
    approver, objects = stack.seed(objects=1, targets=1)
    stack.knobs(hook_fail_status=500, hook_fail_count=2)
    approve_all(stack, approver, objects)
    publish_until(stack, {PublicationStatus.PUBLISHED: 1})
    with stack.app.app_context():
        publication = db.session.scalar(sa.select(Publication))
        assert publication.attempts == 3
    assert stack.emulator("posts")["max_per_key"] == 1


def test_a_4xx_is_permanent_and_the_object_fails_with_the_reason(stack):
    approver, objects = stack.seed(objects=1, targets=1)
    stack.knobs(hook_fail_status=410, hook_fail_count=1)
    approve_all(stack, approver, objects)
    publish_until(stack, {PublicationStatus.FAILED: 1})
    with stack.app.app_context():
        publication = db.session.scalar(sa.select(Publication))
        assert publication.attempts == 1 and publication.last_error.startswith("HTTP 410")
        assert db.session.get(ContentObject, objects[0]).status is ObjectStatus.FAILED


def test_a_row_left_sending_by_a_dead_actor_is_resent_under_the_same_key(stack, monkeypatch):
    approver, objects = stack.seed(objects=1, targets=1)
    approve_all(stack, approver, objects)
    from app.publishing import sender

    with stack.app.app_context():
        publication_id = db.session.scalar(sa.select(Publication.id))
        assert sender.claim(publication_id) is not None  # claimed, then the actor "dies"
        assert sender.claim(publication_id) is None  # nobody else can take it meanwhile
        db.session.execute(
            sa.update(Publication).values(
                claimed_at=sa.func.now() - sa.text("interval '1 hour'"), next_attempt_at=sa.func.now()
            )
        )
        db.session.commit()
        key = db.session.get(Publication, publication_id).idempotency_key
    publish_until(stack, {PublicationStatus.PUBLISHED: 1})
    assert stack.emulator("posts")["per_key"] == {key: 1}


def test_sent_without_callback_becomes_unknown_and_is_not_resent(stack):
    approver, objects = stack.seed(objects=1, targets=1)
    stack.knobs(drop_callbacks=True)
    stack.app.config["PUBLISH_CALLBACK_TIMEOUT_S"] = 0
    approve_all(stack, approver, objects)
    worker = run_worker(stack)
    try:
        with stack.app.app_context():
            relay.relay()
        stack.wait_for(lambda: publication_statuses(stack) == {PublicationStatus.SENT: 1}, 30)
        with stack.app.app_context():
            assert relay.sweep_stuck() == 1
            assert relay.relay() == 0  # unknown is never re-sent automatically
            assert db.session.get(ContentObject, objects[0]).status is ObjectStatus.FAILED
    finally:
        worker.stop()
    assert publication_statuses(stack) == {PublicationStatus.UNKNOWN: 1}
    assert len(stack.emulator("deliveries")["deliveries"]) == 1


def callback_events(stack) -> list[tuple[str, bool]]:
    with stack.app.app_context():
        return [
            (outcome, applied_at is not None)
            for outcome, applied_at in db.session.execute(sa.select(CallbackEvent.outcome, CallbackEvent.applied_at))
        ]


def test_the_callback_actor_applies_what_the_request_recorded(stack):
    approver, objects = stack.seed(objects=1, targets=2)
    approve_all(stack, approver, objects)
    publish_until(stack, {PublicationStatus.PUBLISHED: 2})
    assert sorted(callback_events(stack)) == [("applied", True), ("applied", True)]


def test_a_callback_whose_message_was_lost_is_applied_after_the_scheduler_requeues_it(stack):
    """The relay hands a recorded event over, and the message is lost (here: flushed from the
    broker): the event stays pending until the relay hands it over again."""
    stack.app.config["CALLBACK_REQUEUE_AFTER_S"] = 1
    approver, objects = stack.seed(objects=1, targets=1)
    approve_all(stack, approver, objects)
    publisher = run_worker(stack, queues={"publish"})  # nobody applies callbacks yet
    try:
        with stack.app.app_context():
            relay.relay()
        stack.wait_for(lambda: callback_events(stack) == [("pending", False)], 30)
        with stack.app.app_context():
            assert results.hand_over_due() == 1
    finally:
        publisher.stop()
    stack.app.extensions["dramatiq"].flush(queue_name(stack.app, "callbacks"))  # the message is lost
    assert publication_statuses(stack) == {PublicationStatus.SENT: 1}
    publish_until(stack, {PublicationStatus.PUBLISHED: 1})
    assert callback_events(stack) == [("applied", True)]
    with stack.app.app_context():
        assert db.session.get(ContentObject, objects[0]).status is ObjectStatus.PUBLISHED
