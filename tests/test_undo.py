"""Undo after "Approve" (issue 13, point 5): nothing is due before APPROVAL_UNDO_S has passed; within
the window the approver (or an admin) takes the approval back and the post is in review again;
after it, a clear 409. At the Make emulator's sink: an undone approval delivers nothing."""

from datetime import timedelta

import dramatiq
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Approval, AuditEvent, ContentObject, ObjectStatus, Publication, PublicationStatus, User
from app.models.base import utcnow
from app.publishing import relay
from app.reviews import service as reviews
from app.scheduler import Scheduler
from tests.conftest import csrf_token
from tests.publishing_stack import PublishingStack
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

HX = {"HX-Request": "true", "Accept-Language": "en"}


def _approve(client, object_id, headers=HX):
    return client.post(
        f"/reviews/{object_id}/approve", headers={**headers, "X-CSRFToken": csrf_token(client, "/reviews/")}
    )


def _undo(client, object_id, headers=HX):
    return client.post(
        f"/reviews/{object_id}/undo", headers={**headers, "X-CSRFToken": csrf_token(client, "/reviews/")}
    )


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _backdate_approval(app, object_id, seconds):
    with app.app_context():
        db.session.execute(
            sa.update(Approval)
            .where(Approval.object_id == object_id)
            .values(created_at=Approval.created_at - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_an_approval_is_due_only_after_the_undo_window(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    before = utcnow()
    response = _approve(client, object_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="undo-bar"' in html
    assert f'hx-post="/reviews/{object_id}/undo"' in html and ">Undo</button>" in html
    assert 'data-undo-seconds>30<' in html
    with app.app_context():
        approved_at = db.session.scalar(sa.select(Approval.created_at))
        dues = db.session.scalars(sa.select(Publication.next_attempt_at)).all()
        assert len(dues) == 2 and all(due == approved_at + timedelta(seconds=30) for due in dues)
        assert approved_at >= before
        assert relay.due_publications(100) == []  # the relay hands nothing over meanwhile


def test_a_schedule_later_than_the_window_keeps_its_time_and_a_sooner_one_waits(app, make_user, in_review):
    first, second = in_review(2)
    approver_id, _ = make_user("approver")
    with app.app_context():
        approver = db.session.get(User, approver_id)
        later, sooner = utcnow() + timedelta(hours=2), utcnow() + timedelta(seconds=5)
        db.session.get(ContentObject, first).scheduled_at = later
        db.session.get(ContentObject, second).scheduled_at = sooner
        for object_id in (first, second):
            reviews.approve(db.session.get(ContentObject, object_id), by=approver)
        db.session.commit()
        due = dict(db.session.execute(sa.select(Publication.object_id, Publication.next_attempt_at)).all())
        approved_at = db.session.scalar(sa.select(Approval.created_at).where(Approval.object_id == second))
        assert due[first] == later
        assert due[second] == approved_at + timedelta(seconds=30)


def test_undo_within_the_window_puts_the_card_back_in_the_queue(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    _approve(client, object_id)
    response = _undo(client, object_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'id="review-{object_id}"' in html and 'data-testid="review-card"' in html
    assert "Approval undone" in html and ">Approve</button>" in html
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
        assert _count(Publication) == 0 and _count(Approval) == 0
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "status:in_review"))
        assert event.comment == "approval undone" and event.actor_id == auth.user_id
        assert event.data["withdrawn_publications"] == 2 and event.data["from"] == "approved"
    queue = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'id="review-{object_id}"' in queue and 'data-testid="undo-recent"' not in queue
    history = client.get(f"/reviews/objects/{object_id}/history", headers={"Accept-Language": "fr"})
    assert "approbation annulée" in history.get_data(as_text=True)


def test_undo_of_a_scheduled_post_withdraws_its_publications(app, client, auth, in_review):
    [object_id] = in_review(1)
    with app.app_context():
        db.session.get(ContentObject, object_id).scheduled_at = utcnow() + timedelta(days=1)
        db.session.commit()
    auth.login("approver")
    _approve(client, object_id)
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.SCHEDULED
    assert _undo(client, object_id).status_code == 200
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
        assert _count(Publication) == 0


def test_after_the_window_the_undo_is_refused_and_nothing_changes(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    _approve(client, object_id)
    _backdate_approval(app, object_id, 31)
    response = _undo(client, object_id)
    assert response.status_code == 409
    assert "Too late to undo: the 30 seconds have passed." in response.get_data(as_text=True)
    french = _undo(client, object_id, headers={"HX-Request": "true", "Accept-Language": "fr"})
    assert french.status_code == 409 and "Trop tard pour annuler" in french.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.APPROVED
        assert _count(Publication, Publication.status == PublicationStatus.PENDING) == 2
        assert _count(Approval) == 1


def test_only_the_approver_or_an_admin_may_undo(app, client, auth, in_review, make_user):
    first, second = in_review(2)
    auth.login("approver")
    _approve(client, first)
    _approve(client, second)
    auth.logout()
    auth.login("approver")  # another approver
    refused = _undo(client, first)
    assert refused.status_code == 409 and "Only the person who approved this post" in refused.get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert _undo(client, second).status_code == 200
    with app.app_context():
        assert db.session.get(ContentObject, first).status is ObjectStatus.APPROVED
        assert db.session.get(ContentObject, second).status is ObjectStatus.IN_REVIEW


def test_a_post_being_published_cannot_be_undone(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    _approve(client, object_id)
    with app.app_context():
        db.session.get(ContentObject, object_id).status = ObjectStatus.PUBLISHING
        db.session.commit()
    response = _undo(client, object_id)
    assert response.status_code == 409 and "can no longer be undone" in response.get_data(as_text=True)


def test_without_javascript_the_queue_offers_the_undo_until_the_window_closes(app, client, auth, in_review):
    [object_id, _] = in_review(2)
    auth.login("approver")
    assert _approve(client, object_id, headers={"Accept-Language": "en"}).status_code == 303
    queue = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="undo-recent"' in queue and "You approved “Teaser 0”." in queue
    assert f'action="/reviews/{object_id}/undo"' in queue
    undone = _undo(client, object_id, headers={"Accept-Language": "en"})
    assert undone.status_code == 303 and undone.headers["Location"] == "/reviews/"
    queue = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Approval undone: “Teaser 0” is back in the queue" in queue and f'id="review-{object_id}"' in queue
    _approve(client, object_id, headers={"Accept-Language": "en"})
    _backdate_approval(app, object_id, 31)
    assert 'data-testid="undo-recent"' not in client.get("/reviews/").get_data(as_text=True)


# -- At the Make emulator's sink, with a real worker and the scheduler ------------------------


@pytest.fixture
def stack(servers):
    stack = PublishingStack(servers, SCHEDULER_RELAY_INTERVAL_S=0.1, APPROVAL_UNDO_S=2)
    yield stack
    stack.close()


def test_undo_within_the_window_delivers_nothing_and_the_other_post_once_per_target(stack):
    approver_id, (undone, kept) = stack.seed(objects=2, targets=2)
    worker = dramatiq.Worker(stack.app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    scheduler = Scheduler(stack.app).start()
    try:
        with stack.app.app_context():
            approver = db.session.get(User, approver_id)
            for object_id in (undone, kept):
                reviews.approve(db.session.get(ContentObject, object_id), by=approver)
            db.session.commit()
            keys = dict(db.session.execute(sa.select(Publication.idempotency_key, Publication.object_id)).all())
            original_due = db.session.scalar(sa.select(sa.func.max(Publication.next_attempt_at)))
            reviews.undo_approval(reviews.get_for_review(undone, approver), by=approver)
            db.session.commit()

        def kept_published():
            with stack.app.app_context():
                return db.session.get(ContentObject, kept).status is ObjectStatus.PUBLISHED

        stack.wait_for(kept_published, timeout=30)
        while utcnow() < original_due + timedelta(seconds=1.5):  # well past the undone post's due time
            stack.wait_for(lambda: True, timeout=0.1)
    finally:
        scheduler.stop()
        worker.stop()
    per_key = stack.emulator("deliveries")["per_key"]
    kept_keys = sorted(key for key, object_id in keys.items() if object_id == kept)
    assert len(kept_keys) == 2 and sorted(per_key) == kept_keys  # nothing of the undone post
    assert set(per_key.values()) == {1}  # once per target
    with stack.app.app_context():
        assert db.session.get(ContentObject, undone).status is ObjectStatus.IN_REVIEW
        assert _count(Publication, Publication.object_id == undone) == 0
        approved_at = db.session.scalar(sa.select(Approval.created_at).where(Approval.object_id == kept))
        first_sent = db.session.scalar(
            sa.select(sa.func.min(Publication.first_attempt_at)).where(Publication.object_id == kept)
        )
        assert first_sent >= approved_at + timedelta(seconds=2)  # not before the window closed


def test_the_queue_count_follows_the_decisions_down_to_the_empty_state(app, client, auth, in_review):
    first, second = in_review(2)
    auth.login("approver")
    queue = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 posts wait for your decision." in queue and 'data-testid="review-count"' in queue
    html = _approve(client, first).get_data(as_text=True)
    # The heading is swapped out of band with the decided card.
    assert '<div id="review-count" data-testid="review-count" hx-swap-oob="true">' in html
    assert "1 post waits for your decision." in html and "Nothing to review" not in html
    html = _approve(client, second).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in html and "Nothing to review" in html and "waits for your decision" not in html
    html = _undo(client, second).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in html and "1 post waits for your decision." in html
    french = client.post(
        f"/reviews/{first}/undo",
        headers={"HX-Request": "true", "Accept-Language": "fr", "X-CSRFToken": csrf_token(client, "/reviews/")},
    )
    assert "2 publications attendent votre décision." in french.get_data(as_text=True)
