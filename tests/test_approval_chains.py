"""Approval chains (docs/approval-chains.md): ordered steps with their approvers and rule; the
queue shows each approver what waits for their step; nobody approves their own post; changes
restart the chain; a review link is one approver of one step; expiring approvals; the
"approved" notification waits for the undo window and goes with an undo."""

import email
import email.policy
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.calendar import service as calendar
from app.extensions import db
from app.models import (
    ApprovalProgress,
    ApprovalSettings,
    ApprovalStep,
    Approval,
    AuditEvent,
    ContentObject,
    Notification,
    NotificationEvent,
    ObjectStatus,
    Publication,
    ReviewLink,
    Role,
    StepApproval,
    StepRule,
    TeamsMessage,
    User,
)
from app.models.base import utcnow
from app.notifications import delivery
from app.notifications.sink import MailSink
from app.review_links import service as links
from app.reviews import chains, expiry, service as reviews
from tests.conftest import csrf_token
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

HX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def team(app, make_user):
    """An editor, two communication approvers, a lawyer and an admin (ids by first name)."""
    people = {}
    for name, role in (
        ("Élodie", Role.EDITOR),
        ("Marie", Role.APPROVER),
        ("Paul", Role.APPROVER),
        ("Jean", Role.APPROVER),
        ("Ada", Role.ADMIN),
    ):
        people[name], _ = make_user(role, email=f"{name.lower().replace('é', 'e')}@example.org", name=name)
    return people


def _chain(app, object_id, team, *steps):
    """Give the post's campaign these steps: (name, rule, [first names], role)."""
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        obj.author_id = team["Élodie"]
        for position, (name, rule, names, role) in enumerate(steps):
            step = ApprovalStep(campaign_id=obj.campaign_id, position=position, name=name, rule=rule, role=role)
            step.users = [db.session.get(User, team[n]) for n in names]
            db.session.add(step)
        db.session.flush()
        chains.sync(obj)
        db.session.commit()
        return obj.campaign_id


def chains_first(app, object_id):
    with app.app_context():
        return chains.steps_of(db.session.get(ContentObject, object_id).campaign_id)[0].id


def _as(user_id):
    return db.session.get(User, user_id)


def _approve(app, object_id, user_id):
    with app.app_context():
        obj = db.session.get(ContentObject, object_id, with_for_update=True)
        result = reviews.approve(obj, by=_as(user_id))
        db.session.commit()
        return (
            result if isinstance(result, Approval) else (result.step.name, result.next_step and result.next_step.name)
        )


def _queue(app, user_id):
    with app.app_context():
        return [obj.id for obj in reviews.queue_page(1, user=_as(user_id)).items]


def _status(app, object_id):
    with app.app_context():
        return db.session.get(ContentObject, object_id).status


def _label(app, object_id, language="en"):
    with app.test_request_context(headers={"Accept-Language": language}):
        return chains.position_label(db.session.get(ContentObject, object_id))


def _asked(app, object_id):
    with app.app_context():
        return sorted(
            db.session.scalars(
                sa.select(User.name)
                .join(Notification, Notification.user_id == User.id)
                .where(Notification.object_id == object_id, Notification.event == NotificationEvent.REVIEW_REQUESTED)
            )
        )


def test_a_post_moves_step_by_step_and_only_the_last_step_writes_the_outbox(app, in_review, team):
    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie", "Paul"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    assert _queue(app, team["Marie"]) == [object_id] == _queue(app, team["Paul"])
    assert _queue(app, team["Jean"]) == []
    assert _label(app, object_id) == "Step 1/2: Communication — waiting for Marie, Paul"
    assert _label(app, object_id, "fr") == "Étape 1/2 : Communication — en attente de Marie, Paul"
    with app.app_context(), pytest.raises(chains.DecisionRefused):
        reviews.approve(db.session.get(ContentObject, object_id), by=_as(team["Jean"]))  # not his step yet

    assert _approve(app, object_id, team["Marie"]) == ("Communication", "Juridique")
    assert _status(app, object_id) is ObjectStatus.IN_REVIEW
    assert _queue(app, team["Marie"]) == [] == _queue(app, team["Paul"])
    assert _queue(app, team["Jean"]) == [object_id]
    assert _asked(app, object_id) == ["Jean"]  # the next step's approver is told
    assert _label(app, object_id) == "Step 2/2: Juridique — waiting for Jean"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0

    approval = _approve(app, object_id, team["Jean"])
    assert isinstance(approval, Approval) and _status(app, object_id) is ObjectStatus.APPROVED
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 2
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.subject_id == object_id).order_by(AuditEvent.id)
        ).all()
        assert actions.count("step_approved") == 2 and actions[-1] == "status:approved"
    assert _label(app, object_id) is None


def test_the_board_card_and_the_post_page_say_where_the_post_stands(app, client, auth, in_review, team):
    [object_id] = in_review(1)
    campaign_id = _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    _approve(app, object_id, team["Marie"])
    auth.login(email="elodie@example.org")
    for path in (f"/campaigns/{campaign_id}/board", f"/campaigns/{campaign_id}/objects/{object_id}"):
        html = client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert re.search(r'data-testid="chain-position">Étape 2/2 : Juridique — en attente de Jean<', html), path


def test_rule_all_waits_for_everyone_and_a_role_step_counts_its_holders(app, in_review, team):
    [object_id] = in_review(1)
    _chain(app, object_id, team, ("Communication", StepRule.ALL, ["Marie"], Role.APPROVER))
    # Every approver holds the role (the author is an editor): Marie, Paul and Jean must approve.
    assert _label(app, object_id) == "Step 1/1: Communication — waiting for Jean, Marie, Paul"
    assert _approve(app, object_id, team["Marie"]) == ("Communication", "Communication")
    assert _queue(app, team["Marie"]) == [] and _queue(app, team["Paul"]) == [object_id]
    with app.app_context(), pytest.raises(chains.DecisionRefused):
        reviews.approve(db.session.get(ContentObject, object_id), by=_as(team["Marie"]))  # once each
    _approve(app, object_id, team["Paul"])
    assert _status(app, object_id) is ObjectStatus.IN_REVIEW
    _approve(app, object_id, team["Jean"])
    assert _status(app, object_id) is ObjectStatus.APPROVED


def test_nobody_approves_their_own_post_unless_allowed(app, in_review, team, monkeypatch):
    first, second = in_review(2)
    with app.app_context():
        for object_id in (first, second):
            db.session.get(ContentObject, object_id).author_id = team["Ada"]  # an admin wrote them
        db.session.commit()
    assert first not in _queue(app, team["Ada"]) and first in _queue(app, team["Paul"])
    with app.app_context(), pytest.raises(chains.DecisionRefused):
        reviews.approve(db.session.get(ContentObject, first), by=_as(team["Ada"]))
    with app.app_context(), pytest.raises(chains.DecisionRefused):
        reviews.request_changes(db.session.get(ContentObject, first), by=_as(team["Ada"]), comment="Non")
    monkeypatch.setitem(app.config, "ALLOW_SELF_APPROVAL", True)
    assert first in _queue(app, team["Ada"])
    assert isinstance(_approve(app, second, team["Ada"]), Approval)


def test_the_queue_refuses_over_http_with_the_reason(app, client, auth, in_review, team):
    [object_id] = in_review(1)
    _chain(app, object_id, team, ("Juridique", StepRule.ANY, ["Jean"], None))
    auth.login("approver")  # an approver not named on the step
    assert f'id="review-{object_id}"' not in client.get("/reviews/", headers=HX).get_data(as_text=True)
    response = client.post(
        f"/reviews/{object_id}/approve", headers={**HX, "X-CSRFToken": csrf_token(client, "/reviews/")}
    )
    assert response.status_code == 403
    assert "waits for the step “Juridique”, which is not yours" in response.get_data(as_text=True)
    assert _status(app, object_id) is ObjectStatus.IN_REVIEW


def test_changes_at_any_step_restart_the_chain(app, in_review, team):
    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    _approve(app, object_id, team["Marie"])
    with app.app_context():
        reviews.request_changes(
            db.session.get(ContentObject, object_id), by=_as(team["Jean"]), comment="Mentions légales"
        )
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StepApproval)) == 0
        assert db.session.get(ApprovalProgress, object_id).step_id is None
        reviews.submit(db.session.get(ContentObject, object_id), by=_as(team["Élodie"]))
        db.session.commit()
    assert _queue(app, team["Marie"]) == [object_id] and _queue(app, team["Jean"]) == []
    assert _label(app, object_id) == "Step 1/2: Communication — waiting for Marie"


def test_a_changed_post_asks_the_earlier_steps_again(app, in_review, team):
    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    _approve(app, object_id, team["Marie"])
    with app.app_context():
        db.session.get(ContentObject, object_id).message = "Un autre texte"
        db.session.commit()
    with app.app_context():
        with pytest.raises(chains.DecisionRefused):
            reviews.approve(db.session.get(ContentObject, object_id), by=_as(team["Jean"]))
        db.session.commit()  # as the view does: the restart is kept
    assert _queue(app, team["Marie"]) == [object_id] and _queue(app, team["Jean"]) == []


def test_an_edit_in_review_sends_the_post_back_to_the_first_step(app, in_review, team):
    from app.campaigns import objects

    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    _approve(app, object_id, team["Marie"])
    with app.test_request_context():
        obj = db.session.get(ContentObject, object_id)
        assert objects.update_object(
            obj,
            title=obj.title,
            message="Un autre texte",
            link=obj.link,
            media=objects.media_ids(obj),
            targets=objects.target_ids(obj),
            scheduled_at=None,
            actor=_as(team["Élodie"]),
        )
        db.session.commit()
    assert _queue(app, team["Marie"]) == [object_id] and _queue(app, team["Jean"]) == []


def test_undo_goes_back_to_the_last_step_and_withdraws_the_approved_notice(app, in_review, team):
    [object_id] = in_review(1)
    campaign_id = _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    with app.app_context():
        from app.models import Campaign

        db.session.get(Campaign, campaign_id).teams_webhook_url = "http://127.0.0.1:9/teams"
        db.session.commit()
    _approve(app, object_id, team["Marie"])
    before = utcnow()
    _approve(app, object_id, team["Jean"])
    with app.app_context():
        notice = db.session.scalar(sa.select(Notification).where(Notification.event == NotificationEvent.APPROVED))
        card = db.session.scalar(sa.select(TeamsMessage).where(TeamsMessage.event == NotificationEvent.APPROVED))
        window = timedelta(seconds=app.config["APPROVAL_UNDO_S"])
        # Held back until the undo window closes: the mailer and the Teams poster find nothing due.
        assert notice.user_id == team["Élodie"] and notice.mail_due_at >= before + window
        assert card.due_at >= before + window
        assert delivery.claim_mail([notice.id]) == [] and delivery.post_to_teams(card.id) is None
        obj = db.session.get(ContentObject, object_id, with_for_update=True)
        reviews.undo_approval(obj, by=_as(team["Jean"]))
        db.session.commit()
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Notification)
                .where(Notification.event == NotificationEvent.APPROVED)
            )
            == 0
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(TeamsMessage)
                .where(TeamsMessage.event == NotificationEvent.APPROVED)
            )
            == 0
        )
    assert _queue(app, team["Jean"]) == [object_id] and _queue(app, team["Marie"]) == []


def test_a_review_link_is_one_approver_of_its_step_and_is_mailed(app, client, auth, in_review, team, monkeypatch):
    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ALL, ["Jean"], None),
    )
    sink = MailSink().start()
    try:
        monkeypatch.setitem(app.config, "SMTP_URL", sink.url())
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://cms.example.org")
        with app.test_request_context():
            obj = db.session.get(ContentObject, object_id)
            [_, legal] = chains.steps_of(obj.campaign_id)
            link, token = links.create(
                obj,
                by=_as(team["Élodie"]),
                name="Claire Juriste",
                email="claire@client.example",
                days=None,
                step_id=legal.id,
            )
            db.session.commit()
            link_id, legal_id = link.id, legal.id
            assert delivery.mail_review_link(link_id, f"https://cms.example.org/r/{token}")
        [record] = sink.messages
        mail = email.message_from_bytes(record["data"], policy=email.policy.default)
        body = mail.get_body(("plain",)).get_content()
        assert "claire@client.example" in record["to"] and f"https://cms.example.org/r/{token}" in body
        # In the CMS's default language (French): the reviewer has no account, so no language of theirs.
        assert mail["Subject"] == "Votre relecture est demandée : «\xa0Teaser 0\xa0»"
        assert "Bonjour Claire Juriste," in body and "Élodie vous demande de relire" in body
    finally:
        sink.stop()
    auth.login(email="elodie@example.org")
    block = client.get(f"/posts/{object_id}/review-links", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="review-link-step">Step: Juridique<' in block
    assert (
        '<option selected value="%d">Communication</option>' % chains_first(app, object_id) in block
    )  # the next link's step
    visitor = app.test_client()
    refused = visitor.get(f"/r/{token}", headers={"Accept-Language": "en"})
    assert refused.status_code == 409 and 'data-reason="not_at_step"' in refused.get_data(as_text=True)
    _approve(app, object_id, team["Marie"])
    assert _label(app, object_id) == "Step 2/2: Juridique — waiting for Jean, Claire Juriste"
    _approve(app, object_id, team["Jean"])
    assert _status(app, object_id) is ObjectStatus.IN_REVIEW  # the link is one of the step's approvers
    page = visitor.get(f"/r/{token}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = visitor.post(f"/r/{token}/approve", data={"csrf_token": csrf, "name": "Claire Juriste"})
    assert response.status_code == 303
    assert _status(app, object_id) is ObjectStatus.APPROVED
    with app.app_context():
        step_approval = db.session.scalar(sa.select(StepApproval).where(StepApproval.review_link_id == link_id))
        assert step_approval.step_id == legal_id and step_approval.user_id is None
        assert db.session.get(ReviewLink, link_id).used_at is not None


def test_an_approval_expires_at_the_scheduled_moment(app, in_review, team, monkeypatch):
    first, second = in_review(2)
    moment = utcnow() + timedelta(hours=2)
    with app.app_context():
        for object_id in (first, second):
            obj = db.session.get(ContentObject, object_id)
            obj.scheduled_at, obj.author_id = moment, team["Élodie"]
        db.session.add(ApprovalSettings(campaign_id=obj.campaign_id, expires_at_schedule=True))
        db.session.commit()
    _approve(app, first, team["Paul"])
    _approve(app, second, team["Paul"])
    monkeypatch.setitem(app.config, "CALENDAR_RESCHEDULE_KEEPS_APPROVAL", True)
    with app.test_request_context():
        assert db.session.get(ApprovalProgress, first).expires_at == moment
        # Earlier: the approval holds (until the new moment); later: a new decision is needed.
        obj = db.session.get(ContentObject, first, with_for_update=True)
        assert calendar.move(obj, moment - timedelta(hours=1), actor=_as(team["Élodie"])) == "kept"
        assert db.session.get(ApprovalProgress, first).expires_at == moment - timedelta(hours=1)
        assert calendar.move(obj, moment + timedelta(hours=1), actor=_as(team["Élodie"])) == "review"
        db.session.commit()
        assert db.session.get(ContentObject, first).status is ObjectStatus.IN_REVIEW
        # Not publishing APPROVAL_EXPIRY_GRACE_S after its moment: back to review.
        assert expiry.expire_due() == 0
        db.session.get(ApprovalProgress, second).expires_at = utcnow() - timedelta(
            seconds=app.config["APPROVAL_EXPIRY_GRACE_S"] + 1
        )
        db.session.commit()
        assert expiry.expire_due() == 1
        assert db.session.get(ContentObject, second).status is ObjectStatus.IN_REVIEW
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Publication)
                .where(Publication.object_id == second, Publication.status == "pending")
            )
            == 0
        )


def _undo(app, object_id, user_id):
    with app.app_context():
        obj = db.session.get(ContentObject, object_id, with_for_update=True)
        reviews.undo_approval(obj, by=_as(user_id))
        db.session.commit()


def test_a_step_approval_is_undone_within_the_window_and_the_next_step_is_not_told(app, in_review, team):
    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie", "Paul"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    before = utcnow()
    assert _approve(app, object_id, team["Marie"]) == ("Communication", "Juridique")
    with app.app_context():
        asked = db.session.scalar(
            sa.select(Notification).where(
                Notification.event == NotificationEvent.REVIEW_REQUESTED, Notification.user_id == team["Jean"]
            )
        )
        # Held back like the "approved" notice: the mailer finds nothing due within the window.
        assert asked.mail_due_at >= before + timedelta(seconds=app.config["APPROVAL_UNDO_S"])
        assert delivery.claim_mail([asked.id]) == []
        assert reviews.recent_approval(_as(team["Marie"])).offer.step is True
    with app.app_context(), pytest.raises(reviews.UndoRefused):
        reviews.undo_approval(db.session.get(ContentObject, object_id), by=_as(team["Paul"]))  # not his
    _undo(app, object_id, team["Marie"])
    assert _asked(app, object_id) == []  # withdrawn before it left
    assert _queue(app, team["Jean"]) == [] and _queue(app, team["Marie"]) == [object_id]
    assert _label(app, object_id) == "Step 1/2: Communication — waiting for Marie, Paul"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StepApproval)) == 0
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "step_approval_undone"))
        assert event.actor_id == team["Marie"] and event.data["name"] == "Marie"
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
    # Approved again, the next step is asked again.
    assert _approve(app, object_id, team["Paul"]) == ("Communication", "Juridique")
    assert _asked(app, object_id) == ["Jean"]


def test_a_step_approval_stays_once_the_next_step_decided_or_the_window_closed(app, client, auth, in_review, team):
    first, second = in_review(2)
    _chain(
        app, first, team, ("Communication", StepRule.ANY, ["Marie"], None), ("Juridique", StepRule.ANY, ["Jean"], None)
    )
    auth.login(email="marie@example.org")
    token = {"X-CSRFToken": csrf_token(client, "/reviews/")}
    approved = client.post(f"/reviews/{first}/approve", headers={**HX, **token})
    html = approved.get_data(as_text=True)
    assert approved.status_code == 200 and "now waits for “Juridique”" in html
    assert f'hx-post="/reviews/{first}/undo"' in html and "the next step’s approvers are told" in html
    _approve(app, first, team["Jean"])  # the last step decided meanwhile
    refused = client.post(f"/reviews/{first}/undo", headers={**HX, **token})
    assert refused.status_code == 409
    assert "Jean has approved the post since, and that decision stands" in refused.get_data(as_text=True)
    assert _status(app, first) is ObjectStatus.APPROVED

    client.post(f"/reviews/{second}/approve", headers={**HX, **token})
    with app.app_context():
        db.session.execute(
            sa.update(StepApproval)
            .where(StepApproval.object_id == second)
            .values(created_at=StepApproval.created_at - timedelta(seconds=31))
        )
        db.session.commit()
    late = client.post(f"/reviews/{second}/undo", headers={"HX-Request": "true", "Accept-Language": "fr", **token})
    assert late.status_code == 409 and "Trop tard" in late.get_data(as_text=True)
    assert _queue(app, team["Jean"]) == [second]
