"""Dramatiq on the real Redis broker: actors bind lazily, messages leave only after commit."""

import threading
import uuid

import dramatiq
import redis
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from app.tasks import actor, call_after_commit, send_after_commit
from tests.conftest import create_migrated_database, drop_database, make_test_app

processed = []
done = threading.Event()


@actor(max_retries=0)
def record_user_seen(user_id):
    """Test actor: reads committed data inside the worker's app context and records it."""
    user = db.session.get(User, user_id)
    processed.append(user.email if user else None)
    db.session.add(AuditEvent(action="seen", subject_type="users", subject_id=user_id))
    db.session.commit()
    done.set()


def _queue_length(app):
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    return client.llen(f"{app.extensions['dramatiq'].namespace}:default")


def test_messages_are_sent_after_commit_and_dropped_on_rollback(servers):
    url = create_migrated_database(servers)
    app = make_test_app(servers, url)
    try:
        with app.app_context():
            user = User(email=f"w{uuid.uuid4().hex[:6]}@example.org", name="W", role="editor")
            db.session.add(user)
            db.session.flush()
            send_after_commit(db.session(), record_user_seen, user.id)
            assert _queue_length(app) == 0  # nothing leaves before the commit
            db.session.rollback()
            assert _queue_length(app) == 0  # the rollback dropped it

            db.session.add(user := User(email="kept@example.org", name="K", role="editor"))
            db.session.flush()
            send_after_commit(db.session(), record_user_seen, user.id)
            db.session.commit()
            assert _queue_length(app) == 1

        worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1)
        worker.start()
        try:
            assert done.wait(15), "the worker did not process the message"
        finally:
            worker.stop()
        assert processed == ["kept@example.org"]
        with app.app_context():
            assert (
                db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "seen"))
                == 1
            )
            db.engine.dispose()
    finally:
        app.extensions["dramatiq"].flush_all()
        drop_database(servers.database_url, url)


def _queued(app) -> list[int]:
    """The user ids of the record_user_seen messages waiting on the broker, oldest first."""
    import json

    client = redis.Redis.from_url(app.config["REDIS_URL"])
    ns = app.extensions["dramatiq"].namespace
    ids = client.lrange(f"{ns}:default", 0, -1)
    return [json.loads(client.hget(f"{ns}:default.msgs", i))["args"][0] for i in ids]


def test_a_savepoint_neither_sends_early_nor_drops_what_came_before_it(servers):
    """SQLAlchemy reports a savepoint's release as a commit and its rollback as a rollback: the
    messages still wait for the whole transaction, and a rolled-back savepoint drops only its own
    (a message sent at the release reached a worker before its rows were committed)."""
    url = create_migrated_database(servers)
    app = make_test_app(servers, url)
    calls = []
    try:
        with app.app_context():
            send_after_commit(db.session(), record_user_seen, 1)  # before any savepoint
            with db.session.begin_nested():
                send_after_commit(db.session(), record_user_seen, 2)
                call_after_commit(db.session(), calls.append, "kept")
                with db.session.begin_nested():
                    send_after_commit(db.session(), record_user_seen, 3)
            assert _queued(app) == [] and calls == []  # released, not committed: nothing leaves
            try:
                with db.session.begin_nested():
                    send_after_commit(db.session(), record_user_seen, 4)
                    call_after_commit(db.session(), calls.append, "dropped")
                    with db.session.begin_nested():
                        send_after_commit(db.session(), record_user_seen, 5)
                    raise ValueError("the savepoint rolls back")
            except ValueError:
                pass
            send_after_commit(db.session, record_user_seen, 6)  # the scoped session itself, as callers may pass
            assert _queued(app) == []
            db.session.commit()
            assert _queued(app) == [1, 2, 3, 6] and calls == ["kept"]

            send_after_commit(db.session(), record_user_seen, 7)
            with db.session.begin_nested():
                send_after_commit(db.session(), record_user_seen, 8)
            db.session.rollback()  # the whole transaction: everything queued in it goes
            db.session.commit()
            assert _queued(app) == [1, 2, 3, 6]

            db.session.execute(sa.select(1))
            send_after_commit(db.session(), record_user_seen, 9)
            db.session.close()  # closed without a commit (SQLAlchemy fires no rollback event)
            db.session.execute(sa.select(1))
            db.session.commit()
            assert _queued(app) == [1, 2, 3, 6]
            db.engine.dispose()
    finally:
        app.extensions["dramatiq"].flush_all()
        drop_database(servers.database_url, url)
