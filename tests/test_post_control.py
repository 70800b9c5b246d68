"""From the post page (issue 13, point 5): "Unschedule" and "Publish now" for an approved post,
and a failed target's reason in words with "Retry" by the admin's rules."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, ContentObject, ObjectStatus, Publication, PublicationStatus as P, User
from app.models.base import utcnow
from app.publishing import control, relay
from app.reviews import service as reviews
from tests.conftest import csrf_token
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

EN = {"Accept-Language": "en"}


@pytest.fixture
def approved(app, make_user, in_review):
    """A post approved by an approver, scheduled in a day unless told otherwise."""

    def make(scheduled=True):
        [object_id] = in_review(1)
        approver_id, _ = make_user("approver")
        with app.app_context():
            obj = db.session.get(ContentObject, object_id)
            if scheduled:
                obj.scheduled_at = utcnow() + timedelta(days=1)
            reviews.approve(obj, by=db.session.get(User, approver_id))
            db.session.commit()
            return obj.campaign_id, object_id

    return make


def _page(campaign_id, object_id):
    return f"/campaigns/{campaign_id}/objects/{object_id}"


def _post(client, campaign_id, object_id, action, headers=EN):
    page = _page(campaign_id, object_id)
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page)}, headers=headers)


def _pending(app, object_id):
    with app.app_context():
        return db.session.scalars(
            sa.select(Publication).where(Publication.object_id == object_id, Publication.status == P.PENDING)
        ).all()


def test_unschedule_stops_the_publications_and_keeps_the_approval(app, client, auth, approved):
    campaign_id, object_id = approved()
    auth.login("editor")
    html = client.get(_page(campaign_id, object_id), headers=EN).get_data(as_text=True)
    assert 'data-testid="unschedule"' in html and 'data-testid="publish-now"' in html
    assert "Unscheduling sends nothing: the post stays approved, without a date" in html
    response = _post(client, campaign_id, object_id, "unschedule")
    assert response.status_code == 303 and response.headers["Location"] == _page(campaign_id, object_id)
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.APPROVED and obj.scheduled_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "status:approved", AuditEvent.comment == "unscheduled")
        )
        assert event.actor_id == auth.user_id and event.data["withdrawn_publications"] == 2
    html = client.get(_page(campaign_id, object_id), headers=EN).get_data(as_text=True)
    assert "Unscheduled: nothing will be sent." in html
    assert 'data-testid="unschedule"' not in html and 'data-testid="publish-now"' in html
    assert "Approved, without a date: give it one in the calendar, or publish it now." in html
    again = _post(client, campaign_id, object_id, "unschedule")
    assert again.status_code == 409 and "Only a scheduled post can be unscheduled." in again.get_data(as_text=True)


def test_publish_now_makes_a_scheduled_post_due_now(app, client, auth, approved):
    campaign_id, object_id = approved()
    with app.app_context():
        assert relay.due_publications(100) == []
    auth.login("editor")
    before = utcnow()
    assert _post(client, campaign_id, object_id, "publish-now").status_code == 303
    rows = _pending(app, object_id)
    assert len(rows) == 2 and all(row.next_attempt_at <= utcnow() for row in rows)
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert before <= obj.scheduled_at <= utcnow()
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "published_now"))
        assert event.actor_id == auth.user_id and event.data["publications"] == 2
        assert sorted(relay.due_publications(100)) == sorted(row.id for row in rows)
    history = client.get(f"/reviews/objects/{object_id}/history", headers={"Accept-Language": "fr"})
    assert "demandé de publier maintenant" in history.get_data(as_text=True)


def test_an_unscheduled_post_published_now_gets_its_publications_again(app, client, auth, approved):
    campaign_id, object_id = approved()
    auth.login("editor")
    _post(client, campaign_id, object_id, "unschedule")
    assert _post(client, campaign_id, object_id, "publish-now").status_code == 303
    rows = _pending(app, object_id)
    assert len(rows) == 2 and all(row.next_attempt_at <= utcnow() for row in rows)
    with app.app_context():
        assert {row.fingerprint for row in rows} == {
            reviews.latest_approval(db.session.get(ContentObject, object_id)).fingerprint
        }


def test_publish_now_refuses_content_that_is_not_what_was_approved(app, client, auth, approved):
    campaign_id, object_id = approved()
    auth.login("editor")
    _post(client, campaign_id, object_id, "unschedule")
    with app.app_context():  # changed behind the form's back (the form would send it to review)
        db.session.get(ContentObject, object_id).message = "Autre texte"
        db.session.commit()
    refused = _post(client, campaign_id, object_id, "publish-now", headers={"Accept-Language": "fr"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "<html" in body
    assert "Ce post a changé depuis son approbation" in body
    assert _pending(app, object_id) == []


def test_approvers_cannot_control_a_post(client, auth, approved):
    campaign_id, object_id = approved()
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    for action in ("unschedule", "publish-now"):
        response = client.post(f"{_page(campaign_id, object_id)}/{action}", headers={"X-CSRFToken": token})
        assert response.status_code == 403


def _fail(app, object_id, last_error, status=P.FAILED):
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        obj.status = ObjectStatus.FAILED
        publications = db.session.scalars(
            sa.select(Publication).where(Publication.object_id == object_id).order_by(Publication.id)
        ).all()
        publications[0].status, publications[0].last_error = status, last_error
        publications[1].status = P.PUBLISHED
        db.session.commit()
        return publications[0].id


def test_a_failed_target_says_why_in_words_and_is_retried_from_the_post_page(app, client, auth, approved):
    campaign_id, object_id = approved(scheduled=False)
    failed_id = _fail(app, object_id, "HTTP 410: Scenario is not active")
    auth.login("editor")
    html = client.get(_page(campaign_id, object_id), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    failed = re.search(r'data-testid="delivery-\w+" data-status="failed">(.*?)</li>', html, re.S)[1]
    assert "Le scénario Make de ce compte est arrêté ou a été supprimé" in failed
    assert "<details><summary>Détail technique</summary><pre>HTTP 410: Scenario is not active</pre></details>" in failed
    assert 'data-testid="retry-publication"' in failed and f"/publications/{failed_id}/retry" in failed
    published = re.search(r'data-testid="delivery-\w+" data-status="published">(.*?)</li>', html, re.S)[1]
    assert 'data-testid="retry-publication"' not in published

    response = _post(client, campaign_id, object_id, f"publications/{failed_id}/retry")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.PUBLISHING
        fresh = db.session.scalar(sa.select(Publication).where(Publication.status == P.PENDING))
        assert fresh.generation == 2 and fresh.idempotency_key.endswith("-g2")
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "publication_retried"))
        assert event.actor_id == auth.user_id and event.subject_id == failed_id
    page = client.get(_page(campaign_id, object_id), headers=EN).get_data(as_text=True)
    assert "Retrying: this network receives the post again in a moment." in page
    assert 'data-testid="retry-publication"' not in page  # the newest generation is waiting
    again = _post(client, campaign_id, object_id, f"publications/{failed_id}/retry")
    assert again.status_code == 409 and "This publication was already retried." in again.get_data(as_text=True)


def test_a_retry_names_a_publication_of_this_post_only(app, client, auth, approved):
    campaign_id, object_id = approved(scheduled=False)
    failed_id = _fail(app, object_id, "error: boom")
    other_campaign, other_id = approved(scheduled=False)
    auth.login("editor")
    assert _post(client, other_campaign, other_id, f"publications/{failed_id}/retry").status_code == 404
    assert _post(client, campaign_id, object_id, "publications/999999/retry").status_code == 404


@pytest.mark.parametrize(
    "recorded, words",
    [
        (
            "error: Error validating access token: Session has expired on Friday",
            "connection to the network has expired",
        ),
        ("error: (#9) Application request limit reached: rate limit", "limited how many posts"),
        ("error: The aspect ratio is not supported.", "refused a media file"),
        ("error: Caption is too long", "refused the text"),
        ("HTTP 503: upstream unavailable", "could not be reached for hours"),
        ("ConnectError: [Errno 111] Connection refused", "could not be reached for hours"),
        ("media not publicly reachable: https://cms.example/m/x (HTTP 404)", "could not fetch a media file"),
        ("the campaign scenario has no webhook URL (not provisioned)", "not set up yet"),
        ("no callback from Make in time", "did not say whether the post went out"),
        ("marked failed by hand", "marked it as not published"),
        ("HTTP 400: Bad request", "Make refused the publication request"),
        ("error: something odd", "The network or Make refused the publication."),
        (None, "The network or Make refused the publication."),
    ],
)
def test_each_recorded_failure_reads_as_a_sentence(app, recorded, words):
    with app.test_request_context(headers=EN):
        assert words in control.failure_reason(Publication(last_error=recorded))
