"""An outside reviewer takes back an approval given through their link (docs/approval-chains.md,
"Outside reviewers"): from the browser that approved, within APPROVAL_UNDO_S, while the approval
still stands; the link then decides again. A shared token, a closed window, a request for
changes and a later approval leave the decision as it is."""

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Approval,
    AuditEvent,
    ContentObject,
    MailState,
    Notification,
    NotificationEvent as E,
    ObjectStatus,
    Publication,
    ReviewLink,
    StepApproval,
    StepRule,
)
from app.models.base import utcnow
from app.review_links import service as links
from app.reviews import chains
from tests.conftest import csrf_token
from tests.test_approval_chains import _approve, _as, _chain, _status, team  # noqa: F401  (the fixture)
from tests.test_review_links import EN, FR, _decide, _editor_link
from tests.test_reviews import in_review  # noqa: F401  (the fixture)


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _remember_decision(app, visitor, object_id) -> None:
    """The browser's session as after deciding through the link of `object_id` (it remembers
    the last link it decided through)."""
    with app.app_context():
        link_id = db.session.scalar(sa.select(ReviewLink.id).where(ReviewLink.object_id == object_id))
    with visitor.session_transaction() as session:
        session["review_link_decided"] = link_id


def _undo(visitor, path, page_html, headers=EN):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html).group(1)
    return visitor.post(f"{path}/undo", data={"csrf_token": token}, headers={**headers, "User-Agent": "Phone/2"})


def test_the_browser_that_approved_takes_it_back_and_decides_again(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    visitor = app.test_client()
    assert _decide(visitor, path, "approve", name="Claire J.").status_code == 303
    thanks = visitor.get(path, headers=EN).get_data(as_text=True)
    assert "Your approval has been recorded" in thanks and 'data-testid="undo-bar"' in thanks
    assert f'action="{path}/undo"' in thanks and re.search(r"/static/undo\.[0-9a-f]+\.js", thanks)
    with app.app_context():  # the editor's notice is written, its mail held for the undo window
        [told] = db.session.scalars(sa.select(Notification).where(Notification.event == E.REVIEW_LINK_USED)).all()
        assert told.mail_state is MailState.PENDING and told.mail_due_at > utcnow() + timedelta(seconds=20)

    # Somebody else holding the token (it was forwarded) cannot undo: the approval stands.
    other = app.test_client()
    other_page = other.get(path, headers=EN)
    assert other_page.status_code == 410 and 'data-testid="undo-bar"' not in other_page.get_data(as_text=True)
    forwarded = other.post(f"{path}/undo", data={"csrf_token": csrf_token(other)}, headers=EN)
    assert forwarded.status_code == 410 and "already been used" in forwarded.get_data(as_text=True)
    assert _status(app, object_id) is ObjectStatus.APPROVED

    undone = _undo(visitor, path, thanks)
    assert undone.status_code == 303 and undone.headers["Location"].endswith(path)
    page = visitor.get(path, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="review-link-undone"' in html
    assert "Your approval was taken back" in html and 'value="Claire J."' in html  # the name they gave
    assert 'data-testid="review-link-undone"' not in visitor.get(path, headers=EN).get_data(as_text=True)  # once
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
        assert _count(Approval) == 0 and _count(Publication) == 0
        link = db.session.scalar(sa.select(ReviewLink))
        assert link.state().value == "active" and link.decision is None and link.approval_id is None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "review_link_undone"))
        assert event.data["link"] == link.id and event.data["name"] == "Claire J."
        assert event.data["withdrawn_publications"] == 2 and event.data["user_agent"] == "Phone/2"
        assert _count(Notification, Notification.event == E.REVIEW_LINK_USED) == 0  # withdrawn before it left

    # The link decides again; this time the request for changes has no undo.
    again = _decide(visitor, path, "changes", name="Claire J.", comment="Le logo est flou.")
    assert again.status_code == 303 and _status(app, object_id) is ObjectStatus.CHANGES_REQUESTED
    thanks = visitor.get(path, headers=FR).get_data(as_text=True)
    assert "demande de modifications" in thanks and 'data-testid="undo-bar"' not in thanks
    with app.app_context():  # a request for changes is told at once
        [told] = db.session.scalars(sa.select(Notification).where(Notification.event == E.REVIEW_LINK_USED)).all()
        assert told.data["decision"] == "changes_requested" and told.mail_due_at is None
    visitor.post(f"{path}/undo", data={"csrf_token": csrf_token(visitor)}, headers=EN)  # no bar, but posted
    assert _status(app, object_id) is ObjectStatus.CHANGES_REQUESTED


def test_after_the_window_the_approval_stands_and_says_why(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    visitor = app.test_client()
    _decide(visitor, path, "approve", name="Claire")
    thanks = visitor.get(path, headers=EN).get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.update(Approval).values(created_at=Approval.created_at - timedelta(minutes=5)))
        db.session.commit()
    assert 'data-testid="undo-bar"' not in visitor.get(path, headers=EN).get_data(as_text=True)
    late = _undo(visitor, path, thanks)  # the bar of a page left open
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "Your approval stands" in html and "Too late to undo" in html
    french = _undo(visitor, path, thanks, headers=FR).get_data(as_text=True)
    assert "Votre approbation est maintenue" in french
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.APPROVED
        assert _count(Approval) == 1 and _count(Publication) == 2
        assert db.session.scalar(sa.select(ReviewLink)).state().value == "used"


def test_a_step_approved_through_a_link_is_taken_back_until_the_next_step_decides(app, client, auth, in_review, team):
    first, second = in_review(2)
    paths = {}
    _chain(
        app,
        first,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    for object_id in (first, second):  # the two posts are in the same campaign, under its chain
        with app.test_request_context():
            obj = db.session.get(ContentObject, object_id)
            obj.author_id = team["Élodie"]
            chains.sync(obj)
            [communication, _] = chains.steps_of(obj.campaign_id)
            link, token = links.create(
                obj,
                by=_as(team["Élodie"]),
                name="Agence",
                email="a@agence.example",
                days=None,
                step_id=communication.id,
            )
            db.session.commit()
            paths[object_id] = f"/r/{token}"
    visitor = app.test_client()
    for object_id in (first, second):
        assert _decide(visitor, paths[object_id], "approve", name="Agence").status_code == 303
        with app.app_context():
            assert chains.current_step(db.session.get(ContentObject, object_id)).name == "Juridique"

    # The first: taken back, the post waits for Communication again and the link decides again.
    thanks = visitor.get(paths[first], headers=EN).get_data(as_text=True)
    assert 'data-testid="undo-bar"' not in thanks  # the session remembers the last link used only
    _remember_decision(app, visitor, first)
    thanks = visitor.get(paths[first], headers=EN).get_data(as_text=True)
    assert 'data-testid="undo-bar"' in thanks
    assert _undo(visitor, paths[first], thanks).status_code == 303
    with app.app_context():
        obj = db.session.get(ContentObject, first)
        assert obj.status is ObjectStatus.IN_REVIEW and chains.current_step(obj).name == "Communication"
        assert _count(StepApproval, StepApproval.object_id == first) == 0
        assert _count(AuditEvent, AuditEvent.action == "step_approval_undone") == 1
    assert visitor.get(paths[first], headers=EN).status_code == 200  # the decision form again

    # The second: Jean approved the next step meanwhile; his decision stands.
    _remember_decision(app, visitor, second)
    thanks = visitor.get(paths[second], headers=EN).get_data(as_text=True)
    assert 'data-testid="undo-bar"' in thanks
    _approve(app, second, team["Jean"])
    refused = _undo(visitor, paths[second], thanks)
    assert refused.status_code == 409 and "Your approval stands" in refused.get_data(as_text=True)
    assert _status(app, second) is ObjectStatus.APPROVED
