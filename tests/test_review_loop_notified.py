"""The review loop people use, on the real stack: a real SMTP server in process (aiosmtpd), the
Teams Workflows emulator, the Make emulator, a Dramatiq worker and the scheduler. Submit → the
approver is mailed and sees the unread count → changes requested → the editor is mailed and
sees the comment pinned on the post page and the edit form → submitted again → approved →
published through Make → the editor is mailed the links; the campaign's Teams channel got a
card at each step."""

import email
import email.policy
import re

import dramatiq
import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import Campaign, ContentObject, ObjectStatus, Role
from app.notifications.sink import MailSink
from app.scheduler import Scheduler
from sandbox.teams import start_teams_emulator
from tests.conftest import PASSWORD, csrf_token
from tests.publishing_stack import PublishingStack


@pytest.fixture
def loop(servers):
    sink, teams = MailSink().start(), start_teams_emulator()
    stack = PublishingStack(servers, SCHEDULER_RELAY_INTERVAL_S=0.1, NOTIFY_RELAY_INTERVAL_S=0.5)
    stack.app.config.update(SMTP_URL=sink.url(), MAIL_FROM="CMS <cms@example.org>")
    worker = dramatiq.Worker(stack.app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    scheduler = Scheduler(stack.app).start()
    yield stack, sink, teams
    scheduler.stop()
    worker.stop()
    stack.close()
    teams.stop()
    sink.stop()


def client_for(app, email_address):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email_address, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    return client


def mails_to(sink, address):
    return [
        email.message_from_bytes(m["data"], policy=email.policy.default) for m in sink.messages if address in m["to"]
    ]


def text(message):
    return message.get_body(("plain",)).get_content()


def test_the_whole_review_loop_is_notified(loop):
    stack, sink, teams = loop
    _, [object_id] = stack.seed(objects=1, targets=1)
    with stack.app.app_context():
        editor = accounts.create_user("elodie@example.org", "Élodie Martin", Role.EDITOR, PASSWORD)
        accounts.create_user("paul@example.org", "Paul Durand", Role.APPROVER, PASSWORD)
        obj = db.session.get(ContentObject, object_id)
        obj.author_id, obj.status = editor.id, ObjectStatus.DRAFT
        db.session.get(Campaign, obj.campaign_id).teams_webhook_url = teams.webhook_url("salon")
        campaign_id = obj.campaign_id
        db.session.commit()
    editor_client = client_for(stack.app, "elodie@example.org")
    approver_client = client_for(stack.app, "paul@example.org")
    post = f"/campaigns/{campaign_id}/objects/{object_id}"

    def submit():
        response = editor_client.post(f"{post}/submit", data={"csrf_token": csrf_token(editor_client, post)})
        assert response.status_code == 303

    submit()
    stack.wait_for(lambda: mails_to(sink, "paul@example.org"), 30)
    [asked] = mails_to(sink, "paul@example.org")
    assert asked[
        "Subject"
    ] == "«\xa0Post 0\xa0» attend votre relecture." and f"{stack.web.url}/posts/{object_id}" in text(asked)
    queue = approver_client.get("/reviews/").get_data(as_text=True)
    assert re.search(r'data-testid="unread-count">1<', queue)

    response = approver_client.post(
        f"/reviews/{object_id}/changes",
        data={"comment": "Ajoutez la date du salon.", "csrf_token": csrf_token(approver_client, "/reviews/")},
    )
    assert response.status_code == 303
    stack.wait_for(lambda: mails_to(sink, "elodie@example.org"), 30)
    [changes] = mails_to(sink, "elodie@example.org")
    assert "Paul Durand demande des modifications" in changes["Subject"] and "Ajoutez la date du salon." in text(
        changes
    )
    for page in (post, f"{post}/edit"):
        html = editor_client.get(page).get_data(as_text=True)
        assert 'data-testid="pinned-request"' in html and "Ajoutez la date du salon." in html

    submit()
    assert 'data-testid="pinned-request"' not in editor_client.get(post).get_data(as_text=True)
    stack.wait_for(lambda: len(mails_to(sink, "paul@example.org")) == 2, 30)
    response = approver_client.post(
        f"/reviews/{object_id}/approve", data={"csrf_token": csrf_token(approver_client, "/reviews/")}
    )
    assert response.status_code == 303

    def published_mail():
        return [m for m in mails_to(sink, "elodie@example.org") if "est publié" in m["Subject"]]

    stack.wait_for(published_mail, 60)
    [published] = published_mail()
    with stack.app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.PUBLISHED
    with stack.app.app_context():
        from app.models import Publication

        live_url = db.session.scalar(sa.select(Publication.external_url).where(Publication.object_id == object_id))
    assert live_url.startswith("https://") and f"Facebook (facebook) : {live_url}" in text(published)
    # The approval mail is off by default ("published" follows within seconds).
    assert [m["Subject"] for m in mails_to(sink, "elodie@example.org")] == [changes["Subject"], published["Subject"]]

    def cards():
        return [m["message"]["attachments"][0]["content"] for m in teams.received()]

    stack.wait_for(lambda: len(cards()) == 4, 30)
    titles = [card["body"][0]["text"] for card in cards()]
    assert titles == ["«\xa0Post 0\xa0» attend votre relecture."] * 2 + [
        "Paul Durand a approuvé «\xa0Post 0\xa0».",
        "«\xa0Post 0\xa0» est publié.",
    ]
    assert all(card["actions"][0]["url"] == f"{stack.web.url}/posts/{object_id}" for card in cards())
