"""In-app notifications and the conversation on a post, on the real database: who is notified
of what, the unread count on every page, the list, preferences, pinned "request changes"
comments, @mentions, and 1,000 recipients written without slowing the request."""

import re
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Comment, MailState, Notification, NotificationEvent as E, ObjectStatus, Role, User
from tests.notifications_support import EN, a_post, bulk_approvers, login, token


def people(make_user):
    editor_id, editor = make_user(Role.EDITOR, name="Élodie Martin")
    approver_id, approver = make_user(Role.APPROVER, name="Paul Durand")
    return (editor_id, editor), (approver_id, approver)


def submit(client, campaign_id, object_id):
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    return client.post(f"{path}/submit", data={"csrf_token": token(client, path)})


def rows(app, **where):
    with app.app_context():
        query = sa.select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return db.session.scalars(query).all()


def test_submit_notifies_every_approver_in_app_and_by_mail(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    other_id, _ = make_user(Role.APPROVER)
    make_user(Role.ADMIN)
    campaign_id, object_id = a_post(app, editor_id)
    editor_client = login(app, editor)
    assert submit(editor_client, campaign_id, object_id).status_code == 303
    sent = rows(app, event=E.REVIEW_REQUESTED)
    assert sorted(n.user_id for n in sent) == sorted([approver_id, other_id])
    assert all(n.in_app and n.mail_state is MailState.PENDING and n.object_id == object_id for n in sent)
    approver_client = login(app, approver)
    home = approver_client.get("/reviews/", headers=EN).get_data(as_text=True)
    assert re.search(r'data-testid="unread-count">1<', home)
    listing = approver_client.get("/notifications/", headers=EN).get_data(as_text=True)
    assert (
        "waits for your review" in listing
        and f"/notifications/{sent[0].id if sent[0].user_id == approver_id else sent[1].id}/open" in listing
    )


def test_the_count_fragment_is_tiny_and_polls_once_a_minute(app, make_user):
    (editor_id, editor), _ = people(make_user)
    client = login(app, editor)
    page = client.get("/notifications/", headers=EN).get_data(as_text=True)
    assert 'hx-trigger="every 60s"' in page and 'id="unread-badge"' in page
    fragment = client.get("/notifications/count", headers={"HX-Request": "true", **EN})
    assert b"<html" not in fragment.data and len(fragment.data) < 800


def test_changes_requested_pins_the_comment_until_the_post_is_submitted_again(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    campaign_id, object_id = a_post(app, editor_id)
    editor_client, approver_client = login(app, editor), login(app, approver)
    submit(editor_client, campaign_id, object_id)
    response = approver_client.post(
        f"/reviews/{object_id}/changes",
        headers=EN,
        data={
            "comment": "Le visuel est flou, merci de le remplacer.",
            "csrf_token": token(approver_client, "/reviews/"),
        },
    )
    assert response.status_code == 303
    [note] = rows(app, event=E.CHANGES_REQUESTED)
    assert note.user_id == editor_id and note.data["comment"] == "Le visuel est flou, merci de le remplacer."
    for path in (f"/campaigns/{campaign_id}/objects/{object_id}", f"/campaigns/{campaign_id}/objects/{object_id}/edit"):
        html = editor_client.get(path, headers=EN).get_data(as_text=True)
        assert 'data-testid="pinned-request"' in html and 'data-testid="pinned-comment"' in html
        assert "Le visuel est flou" in html and "Changes requested by Paul Durand" in html
    assert submit(editor_client, campaign_id, object_id).status_code == 303
    html = editor_client.get(f"/campaigns/{campaign_id}/objects/{object_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="pinned-request"' not in html and "Le visuel est flou" in html  # kept, not pinned
    with app.app_context():
        assert db.session.scalar(sa.select(Comment.pinned).where(Comment.object_id == object_id)) is False


def test_mark_read_and_mark_all_read(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    for _ in range(3):
        campaign_id, object_id = a_post(app, editor_id)
        submit(login(app, editor), campaign_id, object_id)
    client = login(app, approver)
    first = rows(app, user_id=approver_id)[0]
    fragment = client.post(
        f"/notifications/{first.id}/read", data={"csrf_token": token(client)}, headers={"HX-Request": "true", **EN}
    )
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert b'hx-swap-oob="true"' in fragment.data and b'data-testid="unread-count">2<' in fragment.data
    assert client.post("/notifications/read-all", data={"csrf_token": token(client)}).status_code == 303
    assert all(n.read_at for n in rows(app, user_id=approver_id))
    assert b'data-testid="unread-count"' not in client.get("/notifications/").data
    # Someone else's notification is not mine to read.
    other = login(app, editor)
    assert other.post(f"/notifications/{first.id}/read", data={"csrf_token": token(other)}).status_code == 404


def test_list_paginates_and_has_an_empty_state(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    assert "No notifications" in login(app, approver).get("/notifications/", headers=EN).get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            sa.insert(Notification),
            [
                {
                    "user_id": approver_id,
                    "event": E.REVIEW_REQUESTED,
                    "data": {"title": f"Post {n}"},
                    "mail_state": MailState.NONE,
                }
                for n in range(25)
            ],
        )
        db.session.commit()
    client = login(app, approver)
    first = client.get("/notifications/", headers=EN).get_data(as_text=True)
    second = client.get("/notifications/?page=2", headers=EN).get_data(as_text=True)
    assert first.count('data-testid="notification"') == 20 and second.count('data-testid="notification"') == 5
    assert "Page 1 of 2" in first and re.search(r'data-testid="unread-count">25<', first)


def test_preferences_are_saved_with_303_and_followed(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    client = login(app, approver)
    page = client.get("/notifications/preferences").get_data(as_text=True)  # French by default
    assert "Choix des notifications" in page and "Résumé quotidien par e-mail" in page
    assert re.search(r'value="review_requested:email"[^>]*checked', page)  # the defaults
    assert not re.search(r'value="review_requested:digest"[^>]*checked', page)
    response = client.post(
        "/notifications/preferences",
        data={"csrf_token": token(client, "/notifications/preferences"), "choice": ["review_requested:digest"]},
    )
    assert response.status_code == 303
    campaign_id, object_id = a_post(app, editor_id)
    submit(login(app, editor), campaign_id, object_id)
    [note] = rows(app, user_id=approver_id)
    assert note.in_app is False and note.mail_state is MailState.DIGEST
    page = client.get("/notifications/preferences", headers=EN).get_data(as_text=True)
    assert "Notification choices" in page
    assert re.search(r'value="review_requested:digest"[^>]*checked', page)
    assert not re.search(r'value="review_requested:in_app"[^>]*checked', page)


def test_editors_do_not_get_review_events_in_their_choices(app, make_user):
    (editor_id, editor), _ = people(make_user)
    page = login(app, editor).get("/notifications/preferences", headers=EN).get_data(as_text=True)
    assert "A post waits for my review" not in page and "My post was published" in page


def test_a_comment_swaps_the_thread_with_htmx_and_mentions_notify(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    campaign_id, object_id = a_post(app, editor_id, status=ObjectStatus.IN_REVIEW)
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    response = client.post(
        f"/posts/{object_id}/comments",
        headers={"HX-Request": "true", **EN},
        data={"body": "@paul peux-tu regarder le texte ?", "csrf_token": token(client, path), "next": path},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and f'id="conversation-{object_id}"' in html
    assert "peux-tu regarder" in html and "Élodie Martin" in html
    [mention] = rows(app, event=E.MENTIONED)
    assert mention.user_id == approver_id and mention.data["comment"].startswith("@paul")
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "comment_added"))
        assert event.subject_id == object_id and event.actor_id == editor_id and "peux-tu" in event.comment
    # The approver reads it on the review card's conversation.
    approver_client = login(app, approver)
    thread = approver_client.get(f"/posts/{object_id}/conversation", headers={"HX-Request": "true", **EN})
    assert "peux-tu regarder" in thread.get_data(as_text=True)


def test_an_empty_comment_is_refused_with_422_and_kept_without_javascript_too(app, make_user):
    (editor_id, editor), _ = people(make_user)
    campaign_id, object_id = a_post(app, editor_id)
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    refused = client.post(
        f"/posts/{object_id}/comments",
        headers={"HX-Request": "true", **EN},
        data={"body": "   ", "csrf_token": token(client, path), "next": path},
    )
    assert refused.status_code == 422 and "Write something before sending." in refused.get_data(as_text=True)
    no_js = client.post(
        f"/posts/{object_id}/comments",
        headers=EN,
        data={"body": "x" * 4001, "csrf_token": token(client, path), "next": path},
    )
    assert (
        no_js.status_code == 422
        and "<html" in no_js.get_data(as_text=True)
        and "x" * 4001 in no_js.get_data(as_text=True)
    )
    sent = client.post(
        f"/posts/{object_id}/comments", data={"body": "Bonjour", "csrf_token": token(client, path), "next": path}
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"{path}#conversation-{object_id}")
    evil = client.post(
        f"/posts/{object_id}/comments",
        data={"body": "Encore", "csrf_token": token(client, path), "next": "//evil.example/"},
    )
    assert evil.headers["Location"].startswith(f"/posts/{object_id}/conversation")


def test_approvers_cannot_read_the_conversation_of_a_draft(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    campaign_id, object_id = a_post(app, editor_id)
    client = login(app, approver)
    assert client.get(f"/posts/{object_id}/conversation").status_code == 404
    assert (
        client.post(f"/posts/{object_id}/comments", data={"body": "hi", "csrf_token": token(client)}).status_code == 404
    )
    assert client.get(f"/posts/{object_id}").status_code == 404


def test_the_board_card_counts_the_messages(app, make_user):
    (editor_id, editor), _ = people(make_user)
    campaign_id, object_id = a_post(app, editor_id)
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    for text in ("un", "deux"):
        client.post(f"/posts/{object_id}/comments", data={"body": text, "csrf_token": token(client, path)})
    board = client.get(f"/campaigns/{campaign_id}/board", headers=EN).get_data(as_text=True)
    assert re.search(r'data-testid="comment-count">.*2 messages', board, re.S)


def test_a_post_address_opens_the_right_page_for_each_role(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    campaign_id, object_id = a_post(app, editor_id, status=ObjectStatus.IN_REVIEW)
    assert (
        login(app, editor).get(f"/posts/{object_id}").headers["Location"]
        == f"/campaigns/{campaign_id}/objects/{object_id}"
    )
    assert login(app, approver).get(f"/posts/{object_id}").headers["Location"] == f"/reviews/#review-{object_id}"


def test_a_thousand_recipients_do_not_slow_the_request(app, make_user):
    """The rows are written by one INSERT ... SELECT and the mails handed to the actor in one
    message after the commit (the worker splits it into batches). The submit request with
    1,000 approvers to notify is timed against the same request with nobody to notify,
    interleaved; the best of five of each is compared, since the shared machine's load varies.
    So are, with an approval chain, the submit that asks its first step (a role: 1,000 holders)
    and an admin's approval of that step that asks the next one (1,000 named approvers and the
    author, who is left out): a step's approvers are a SELECT too, never users loaded one by one.
    Each request must stay under 100 ms (see the assertion for a loaded machine)."""
    import os

    from app.models import ApprovalStep, StepRule, approval_step_approvers

    (editor_id, editor), _ = people(make_user)
    client = login(app, editor)

    def timed(who, path, action):
        csrf = token(who, path)
        started = time.perf_counter()
        response = who.post(action, data={"csrf_token": csrf})
        assert response.status_code == 303
        return (time.perf_counter() - started) * 1000

    def submitted():
        campaign_id, object_id = a_post(app, editor_id)
        path = f"/campaigns/{campaign_id}/objects/{object_id}"
        return timed(client, path, f"{path}/submit")

    def asked(object_id):
        with app.app_context():
            return db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.object_id == object_id, Notification.event == E.REVIEW_REQUESTED
                )
            ).all()

    with app.app_context():  # nobody to notify but the approver of people(), muted
        db.session.execute(sa.update(User).where(User.role == Role.APPROVER).values(active=False))
        db.session.commit()
    alone = [submitted() for _ in range(5)]
    bulk_approvers(app, 1000)
    lead_id, lead = make_user(Role.ADMIN, name="Léa Chef")  # decides any step, not an approver
    lead_client = login(app, lead)
    with app.app_context():
        bulk = db.session.scalars(sa.select(User.id).where(User.email.like("bulk%"))).all()
    crowd, chain_submit, chain_approve = [], [], []
    for _ in range(5):
        crowd.append(submitted())
        campaign_id, object_id = a_post(app, editor_id)
        with app.app_context():
            first = ApprovalStep(
                campaign_id=campaign_id, position=0, name="Communication", rule=StepRule.ANY, role=Role.APPROVER
            )
            second = ApprovalStep(campaign_id=campaign_id, position=1, name="Legal", rule=StepRule.ANY)
            db.session.add_all([first, second])
            db.session.flush()
            db.session.execute(
                sa.insert(approval_step_approvers),
                [{"step_id": second.id, "user_id": user_id} for user_id in [*bulk, editor_id]],
            )
            db.session.commit()
        path = f"/campaigns/{campaign_id}/objects/{object_id}"
        chain_submit.append(timed(client, path, f"{path}/submit"))
        assert sorted(asked(object_id)) == sorted(bulk)
        chain_approve.append(timed(lead_client, "/reviews/", f"/reviews/{object_id}/approve"))
        legal = asked(object_id)
        assert len(legal) == 2 * 1000 and editor_id not in legal and lead_id not in legal
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Notification).where(Notification.event == E.REVIEW_REQUESTED)
            )
            == 5 * 3 * 1000
        )
    print(
        f"\nsubmit, nobody to notify: {', '.join(f'{t:.1f}' for t in alone)} ms; "
        f"1,000 recipients: {', '.join(f'{t:.1f}' for t in crowd)} ms; "
        f"chain, submit to a role's 1,000: {', '.join(f'{t:.1f}' for t in chain_submit)} ms; "
        f"chain, approve to the next step's 1,000: {', '.join(f'{t:.1f}' for t in chain_approve)} ms; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    # Under 100 ms on a quiet machine (36-45 ms measured); on a loaded one, the same request
    # without anyone to notify is the yardstick: a per-recipient insert or send would cost ten
    # times as much, not three.
    for runs in (crowd, chain_submit, chain_approve):
        assert min(runs) < 100 or min(runs) < 3 * min(alone), (alone, runs)


def test_a_failed_post_tells_its_author_why_in_words(app, make_user):
    from app import workflow
    from app.models import CampaignScenario, ContentObject, Publication, PublicationStatus

    (editor_id, editor), _ = people(make_user)
    campaign_id, object_id = a_post(app, editor_id, status=ObjectStatus.PUBLISHING)
    with app.app_context():
        scenario_id = db.session.scalar(
            sa.select(CampaignScenario.id).where(CampaignScenario.campaign_id == campaign_id)
        )
        db.session.add(
            Publication(
                object_id=object_id,
                campaign_scenario_id=scenario_id,
                idempotency_key=f"k-{object_id}",
                fingerprint="f",
                status=PublicationStatus.FAILED,
                last_error="HTTP 410: the hook was deleted",
            )
        )
        workflow.transition(db.session.get(ContentObject, object_id), ObjectStatus.FAILED)
        db.session.commit()
    [note] = rows(app, event=E.FAILED)
    assert note.user_id == editor_id and note.data["reasons"][0]["reason"] == "HTTP 410: the hook was deleted"
    page = login(app, editor).get("/notifications/", headers=EN).get_data(as_text=True)
    assert "“Post 0” could not be published." in page
    assert "LinkedIn (linkedin ready): the network or Make refused the post (HTTP 410: the hook was deleted)" in page


def test_the_bell_survives_a_database_error_on_an_error_page(app, make_user):
    """The bell is on every page, error pages included: a failing count (here a transaction the
    database already aborted) leaves the bell without a number instead of failing the page."""
    import psycopg
    from flask_login import login_user

    from app.notifications.views import unread_badge

    (editor_id, editor), _ = people(make_user)
    with app.test_request_context("/"):
        login_user(db.session.get(User, editor_id))
        try:
            db.session.execute(sa.text("SELECT 1/0"))
        except sa.exc.DBAPIError as exc:
            assert isinstance(exc.orig, psycopg.errors.DivisionByZero)
        html = str(unread_badge())
        assert 'id="unread-badge"' in html and "unread-count" not in html


def test_mention_suggestions_offer_the_posts_readers(app, make_user):
    (editor_id, editor), (approver_id, approver) = people(make_user)
    campaign_id, object_id = a_post(app, editor_id)  # a draft: approvers cannot read it
    client = login(app, editor)
    assert client.get(f"/posts/{object_id}/mentions?q=pa").get_json() == {"people": []}
    with app.app_context():
        from app.models import ContentObject

        db.session.get(ContentObject, object_id).status = ObjectStatus.IN_REVIEW
        db.session.commit()
    people_found = client.get(f"/posts/{object_id}/mentions?q=pa").get_json()["people"]
    assert people_found == [{"name": "Paul Durand", "handle": approver.split("@")[0]}]
    assert client.get(f"/posts/{object_id}/mentions?q=dur").get_json()["people"][0]["name"] == "Paul Durand"
    assert client.get(f"/posts/{object_id}/mentions?q=zz").get_json() == {"people": []}
