"""Review links for outside reviewers (issue 13, point 4): an editor creates a link for a named
person; the link opens a public page with the post and decides once through the reviews service;
used, expired, revoked, altered and off-review links are refused in the reader's language."""

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Approval,
    AuditEvent,
    ContentObject,
    Notification,
    NotificationEvent,
    ObjectStatus,
    Publication,
    ReviewLink,
)
from app.models.base import utcnow
from tests.conftest import csrf_token
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


def _create(client, object_id, **data):
    token = csrf_token(client, f"/posts/{object_id}/review-links")
    form = {"name": "Claire Juriste", "email": "claire@client.example", "csrf_token": token, **data}
    return client.post(f"/posts/{object_id}/review-links", data=form, headers={**EN, "HX-Request": "true"})


def _link_path(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'value="(http[^"]+/r/[^"]+)"', html)
    assert match, html[:2000]
    return "/r/" + match.group(1).split("/r/", 1)[1]


def _decide(visitor, path, action, **data):
    page = visitor.get(path, headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return visitor.post(
        f"{path}/{action}", data={"csrf_token": token, **data}, headers={**EN, "User-Agent": "PhoneBrowser/1.0"}
    )


def _editor_link(app, client, auth, object_id, **data):
    auth.login("editor")
    created = _create(client, object_id, **data)
    assert created.status_code == 200, created.get_data(as_text=True)[:2000]
    return _link_path(created)


def test_create_open_approve_then_the_link_says_it_was_used(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    with app.app_context():
        db.session.get(ContentObject, object_id).author_id = auth.user_id
        db.session.commit()
        link = db.session.scalar(sa.select(ReviewLink))
        assert link.reviewer_email == "claire@client.example" and link.state().value == "active"
        secret = path.rsplit("/", 1)[1]
        assert secret not in link.secret_hash and len(link.secret_hash) == 64
        assert timedelta(days=6, hours=23) < link.expires_at - utcnow() <= timedelta(days=7)
    block = client.get(f"/posts/{object_id}/review-links", headers=EN).get_data(as_text=True)
    assert 'data-state="active"' in block and "Revoke" in block

    visitor = app.test_client()
    page = visitor.get(path, headers={**EN, "User-Agent": "PhoneBrowser/1.0"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Rendez-vous au salon" in html
    assert 'value="Claire Juriste"' in html and 'data-testid="preview-instagram"' in html
    assert "mainnav" not in html and "/campaigns" not in html and "/reviews" not in html
    assert "Content-Security-Policy" in page.headers and page.headers["Cache-Control"] == "no-store"

    done = _decide(visitor, path, "approve", name="Claire J.", comment="")
    assert done.status_code == 303
    thanks = visitor.get(path, headers=EN)
    assert thanks.status_code == 200 and "Your approval has been recorded" in thanks.get_data(as_text=True)
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.APPROVED
        approval = db.session.scalar(sa.select(Approval))
        assert approval.decided_by_id is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 2
        link = db.session.scalar(sa.select(ReviewLink))
        assert link.state().value == "used" and link.approval_id == approval.id and link.decided_name == "Claire J."
        used = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "review_link_used"))
        assert used.data["name"] == "Claire J." and used.data["email"] == "claire@client.example"
        assert used.data["user_agent"] == "PhoneBrowser/1.0" and used.data["ip"] == "127.0.0.1"
        opens = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "review_link_opened")).all()
        assert [event.data["outcome"] for event in opens][:2] == ["shown", "shown"]
        told = db.session.scalar(
            sa.select(Notification).where(Notification.event == NotificationEvent.REVIEW_LINK_USED)
        )
        assert told.user_id == auth.user_id and told.data["reviewer"] == "Claire J."

    other = app.test_client()
    again = other.get(path, headers=FR)
    assert again.status_code == 410 and "déjà été utilisé" in again.get_data(as_text=True)
    assert other.get(path, headers=EN).get_data(as_text=True).count("already been used") == 1
    assert (
        client.get(f"/posts/{object_id}/review-links", headers=EN).get_data(as_text=True).count('data-state="used"')
        == 1
    )


def test_revoked_and_expired_links_are_refused(app, client, auth, in_review):
    first, second = in_review(2)
    revoked = _editor_link(app, client, auth, first)
    expired = _editor_link(app, client, auth, second, days="1")
    with app.app_context():
        link_id = db.session.scalar(sa.select(ReviewLink.id).where(ReviewLink.object_id == first))
        db.session.execute(
            sa.update(ReviewLink)
            .where(ReviewLink.object_id == second)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    client.post(
        f"/posts/{first}/review-links/{link_id}/revoke",
        data={"csrf_token": csrf_token(client, f"/posts/{first}/review-links")},
    )
    visitor = app.test_client()
    answer = visitor.get(revoked, headers=EN)
    assert answer.status_code == 410 and "withdrawn" in answer.get_data(as_text=True)
    assert visitor.get(expired, headers=EN).status_code == 410
    assert "a expiré" in visitor.get(expired, headers=FR).get_data(as_text=True)
    late = app.test_client()
    refused = late.post(f"{expired}/approve", data={"csrf_token": csrf_token(late), "name": "X"}, headers=EN)
    assert refused.status_code == 410 and "has expired" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0
        outcomes = db.session.scalars(
            sa.select(AuditEvent.data["outcome"].astext).where(AuditEvent.action == "review_link_opened")
        ).all()
        assert {"revoked", "expired"} <= set(outcomes)


def test_a_tampered_token_is_refused_as_an_unknown_one(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    token = path.rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    visitor = app.test_client()
    unknown = visitor.get("/r/nothing-here", headers=EN)
    tampered = visitor.get(f"/r/{altered}", headers=EN)
    assert tampered.status_code == unknown.status_code == 404
    assert tampered.get_data() == unknown.get_data() and b"This review link is not valid" in tampered.get_data()
    with app.app_context():  # a link signed with the right key but another secret
        from app.review_links.service import _serializer

        link_id = db.session.scalar(sa.select(ReviewLink.id))
        forged = _serializer().dumps({"l": link_id, "s": "guessed"})
    assert visitor.get(f"/r/{forged}", headers=EN).status_code == 404
    assert (
        visitor.post(
            f"/r/{altered}/approve", data={"csrf_token": csrf_token(visitor, path), "name": "X"}, headers=EN
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW


def test_request_changes_without_a_comment_keeps_what_was_typed(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    visitor = app.test_client()
    refused = _decide(visitor, path, "changes", name="Claire de la Compta", comment="   ")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="Claire de la Compta"' in html
    assert "Say what should change" in html
    done = _decide(visitor, path, "changes", name="Claire", comment="Le logo est à l'envers")
    assert done.status_code == 303
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.CHANGES_REQUESTED
        approval = db.session.scalar(sa.select(Approval))
        assert approval.comment == "Le logo est à l'envers"
        assert db.session.scalar(sa.select(ReviewLink.decision)) == "changes_requested"


def test_a_link_for_a_post_that_left_review(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    with app.app_context():
        db.session.get(ContentObject, object_id).status = ObjectStatus.DRAFT
        db.session.commit()
    visitor = app.test_client()
    answer = visitor.get(path, headers=EN)
    assert answer.status_code == 409 and "no longer waiting for review" in answer.get_data(as_text=True)
    assert "attend plus de relecture" in visitor.get(path, headers=FR).get_data(as_text=True)
    block = client.get(f"/posts/{object_id}/review-links", headers=EN).get_data(as_text=True)
    assert 'data-testid="review-link-form"' not in block


def test_the_editor_form_refuses_a_bad_address_with_422(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("editor")
    response = _create(client, object_id, email="not-an-address", days="400")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Claire Juriste"' in html
    assert "not an e-mail address" in html and "From 1 to 90 days" in html
    page = client.get(f"/campaigns/{_campaign(app, object_id)}/objects/{object_id}", headers=EN)
    assert f'hx-get="/posts/{object_id}/review-links"' in page.get_data(as_text=True)


def test_decisions_are_throttled_per_ip(app, client, auth, in_review, monkeypatch):
    from app.review_links import service

    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    monkeypatch.setattr(service, "DECISIONS_PER_IP", 2)
    visitor = app.test_client()
    statuses = [_decide(visitor, path, "changes", name="X", comment="").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def _campaign(app, object_id):
    with app.app_context():
        return db.session.get(ContentObject, object_id).campaign_id
