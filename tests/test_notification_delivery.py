"""Delivering notifications on real servers in process: mail over SMTP (aiosmtpd, plain, with
STARTTLS and authentication, implicit TLS) in the recipient's language, an SMTP outage that
keeps the mail queued until the server is back, the daily digest, and Teams cards through the
strict Workflows webhook emulator (sandbox/teams)."""

import email
import email.policy
import json
import socket
import ssl
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
import trustme

from app.extensions import db
from app.models import MailState, Notification, NotificationEvent as E, Role, TeamsMessage
from app.models.base import utcnow
from app.notifications import delivery, teams
from app.notifications.sink import MailSink
from sandbox.teams import start_teams_emulator, validate
from sandbox.teams.app import CardError
from tests.notifications_support import a_post, login, set_locale, token


@pytest.fixture
def sink():
    running = MailSink().start()
    yield running
    running.stop()


@pytest.fixture
def mail_config(app, monkeypatch):
    def configure(url, **extra):
        for key, value in {
            "SMTP_URL": url,
            "MAIL_FROM": "CMS Campagnes <cms@example.org>",
            "MAIL_REPLY_TO": "equipe@example.org",
            "PUBLIC_BASE_URL": "https://cms.example.org",
            "NOTIFY_BACKOFF_BASE_S": 30.0,
            **extra,
        }.items():
            monkeypatch.setitem(app.config, key, value)

    return configure


def submitted(app, make_user):
    """An editor's post submitted to one approver: (editor id, approver id, object id)."""
    editor_id, editor = make_user(Role.EDITOR, name="Élodie Martin")
    approver_id, _ = make_user(Role.APPROVER, name="Paul Durand")
    campaign_id, object_id = a_post(app, editor_id)
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    assert client.post(f"{path}/submit", data={"csrf_token": token(client, path)}).status_code == 303
    return editor_id, approver_id, object_id


def pending_ids(app):
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification.id).where(Notification.mail_state == MailState.PENDING)))


def parsed(record):
    return email.message_from_bytes(record["data"], policy=email.policy.default)


def test_a_mail_in_the_recipients_language_with_text_html_and_the_link(app, make_user, sink, mail_config):
    mail_config(sink.url())
    editor_id, approver_id, object_id = submitted(app, make_user)
    set_locale(app, approver_id, "en")
    with app.app_context():
        assert delivery.deliver_mail(pending_ids(app)) == 1
        assert delivery.deliver_mail(pending_ids(app) or [1]) == 0  # twice: a no-op
        row = db.session.scalar(sa.select(Notification).where(Notification.user_id == approver_id))
        assert row.mail_state is MailState.SENT and row.mailed_at is not None
    [record] = sink.messages
    message = parsed(record)
    assert record["to"] == [message["To"].addresses[0].addr_spec]
    assert message["Subject"] == "“Post 0” waits for your review."
    assert message["From"] == "CMS Campagnes <cms@example.org>" and message["Reply-To"] == "equipe@example.org"
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    assert (
        f"https://cms.example.org/posts/{object_id}" in text
        and f'href="https://cms.example.org/posts/{object_id}"' in html
    )
    assert "Hello Paul Durand" in text and 'lang="en"' in html


def test_french_is_the_default_language_of_a_mail(app, make_user, sink, mail_config):
    mail_config(sink.url())
    submitted(app, make_user)
    with app.app_context():
        delivery.deliver_mail(pending_ids(app))
    message = parsed(sink.messages[0])
    assert message["Subject"] == "«\u00a0Post 0\u00a0» attend votre relecture."  # non-breaking spaces inside
    assert "Bonjour Paul Durand" in message.get_body(("plain",)).get_content()


def test_starttls_with_authentication(app, make_user, mail_config, tmp_path):
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    tls_sink = MailSink(tls_context=server_context, auth=("cms", "s3cret pass")).start()
    try:
        mail_config(
            f"smtp://cms:s3cret%20pass@127.0.0.1:{tls_sink.port}?starttls=1", SMTP_CA_FILE=str(tmp_path / "ca.pem")
        )
        submitted(app, make_user)
        with app.app_context():
            assert delivery.deliver_mail(pending_ids(app)) == 1
        assert tls_sink.messages[0]["tls"] is True
        # A wrong password keeps the mail queued with the reason, nothing lost.
        mail_config(
            f"smtp://cms:wrong@127.0.0.1:{tls_sink.port}?starttls=1",
            SMTP_CA_FILE=str(tmp_path / "ca.pem"),
            SMTP_TIMEOUT_S=2.0,
        )
        campaign_row = submitted(app, make_user)
        with app.app_context():
            assert delivery.deliver_mail(pending_ids(app)) == 0
            row = db.session.scalar(sa.select(Notification).where(Notification.user_id == campaign_row[1]))
            assert row.mail_state is MailState.PENDING and row.mail_attempts == 1 and row.mail_error
    finally:
        tls_sink.stop()


def test_implicit_tls(app, make_user, mail_config, tmp_path):
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    tls_sink = MailSink(implicit_tls_context=server_context).start()
    try:
        mail_config(f"smtps://127.0.0.1:{tls_sink.port}", SMTP_CA_FILE=str(tmp_path / "ca.pem"))
        submitted(app, make_user)
        with app.app_context():
            assert delivery.deliver_mail(pending_ids(app)) == 1
        assert len(tls_sink.messages) == 1
    finally:
        tls_sink.stop()


def test_an_smtp_outage_keeps_the_mail_queued_and_retried(app, make_user, mail_config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail_config(f"smtp://127.0.0.1:{port}")
    editor_id, approver_id, object_id = submitted(app, make_user)
    ids = pending_ids(app)
    with app.app_context():
        assert delivery.deliver_mail(ids) == 0  # nothing listens: postponed
        row = db.session.get(Notification, ids[0])
        assert row.mail_state is MailState.PENDING and row.mail_attempts == 1 and "ConnectionRefused" in row.mail_error
        assert row.mail_due_at > utcnow() + timedelta(seconds=20)
        assert (
            delivery.deliver_mail(ids) == 0 and db.session.get(Notification, ids[0]).mail_attempts == 1
        )  # not due yet
        row.mail_due_at = utcnow() - timedelta(seconds=1)  # the back-off is over
        db.session.commit()
    back = MailSink(port=port).start()
    try:
        with app.app_context():
            assert delivery.deliver_mail(ids) == 1
            assert db.session.get(Notification, ids[0]).mail_state is MailState.SENT
        assert len(back.messages) == 1
    finally:
        back.stop()


def test_the_relay_hands_over_what_is_due_again(app, make_user, mail_config, sink):
    mail_config(sink.url())
    submitted(app, make_user)
    [row_id] = pending_ids(app)
    broker = app.extensions["dramatiq"]
    with app.app_context():
        broker.flush_all()
        assert delivery.relay() == 0  # its first message is in flight
        db.session.execute(sa.update(Notification).values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        assert delivery.relay() == 1  # that message was lost: again
    queued = broker.client.lrange(f"{broker.namespace}:notify", 0, -1)
    assert len(queued) == 1
    broker.flush_all()


def test_the_daily_digest_gathers_a_users_notifications(app, make_user, sink, mail_config):
    mail_config(sink.url())
    editor_id, editor = make_user(Role.EDITOR, name="Élodie Martin")
    approver_id, approver = make_user(Role.APPROVER, name="Paul Durand")
    client = login(app, approver)
    client.post(
        "/notifications/preferences",
        data={
            "csrf_token": token(client, "/notifications/preferences"),
            "choice": ["review_requested:in_app", "review_requested:digest"],
        },
    )
    editor_client = login(app, editor)
    for _ in range(2):
        campaign_id, object_id = a_post(app, editor_id)
        path = f"/campaigns/{campaign_id}/objects/{object_id}"
        editor_client.post(f"{path}/submit", data={"csrf_token": token(editor_client, path)})
    assert pending_ids(app) == []
    with app.app_context():
        assert delivery.digest_recipients() == [approver_id]
        assert delivery.send_digest(approver_id) == 2
        assert delivery.send_digest(approver_id) == 0
    [record] = sink.messages
    message = parsed(record)
    assert "2" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert text.count("/posts/") == 2


def test_a_recipient_address_refused_gives_up_with_the_reason(app, make_user, mail_config):
    class Refusing(MailSink):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user here"

    refusing = Refusing().start()
    try:
        mail_config(refusing.url())
        submitted(app, make_user)
        ids = pending_ids(app)
        with app.app_context():
            assert delivery.deliver_mail(ids) == 0
            row = db.session.get(Notification, ids[0])
            assert row.mail_state is MailState.FAILED and "No such user" in row.mail_error
    finally:
        refusing.stop()


# -- Teams ---------------------------------------------------------------------------------------


@pytest.fixture
def teams_emulator():
    running = start_teams_emulator()
    yield running
    running.stop()


def test_a_card_reaches_the_campaigns_teams_channel(app, make_user, teams_emulator, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://cms.example.org")
    editor_id, editor = make_user(Role.EDITOR)
    make_user(Role.APPROVER)
    campaign_id, object_id = a_post(app, editor_id, teams_url=teams_emulator.webhook_url("salon"))
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    client.post(f"{path}/submit", data={"csrf_token": token(client, path)})
    with app.app_context():
        [message_id] = db.session.scalars(sa.select(TeamsMessage.id))
        assert delivery.post_to_teams(message_id) == "sent"
        assert delivery.post_to_teams(message_id) is None  # twice: a no-op
    [received] = teams_emulator.received()
    card = received["message"]["attachments"][0]["content"]
    assert card["version"] == "1.5" and received["flow"] == "salon"
    texts = [block.get("text") for block in card["body"]]
    assert "Message 0 #salon" in texts
    assert [b["type"] for b in card["body"]].count("Image") == 1
    assert card["body"][2]["url"].startswith("https://cms.example.org/m/")
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Ouvrir la publication",
        "url": f"https://cms.example.org/posts/{object_id}",
    }


def test_teams_errors_retry_on_5xx_and_give_up_on_4xx(app, make_user, teams_emulator):
    editor_id, editor = make_user(Role.EDITOR)
    make_user(Role.APPROVER)
    campaign_id, object_id = a_post(app, editor_id, teams_url=teams_emulator.webhook_url())
    client = login(app, editor)
    path = f"/campaigns/{campaign_id}/objects/{object_id}"
    client.post(f"{path}/submit", data={"csrf_token": token(client, path)})
    httpx.post(f"{teams_emulator.url}/_emulator/faults", json={"status": 503, "count": 1})
    with app.app_context():
        [message_id] = db.session.scalars(sa.select(TeamsMessage.id))
        assert delivery.post_to_teams(message_id) == "retry"
        message = db.session.get(TeamsMessage, message_id)
        assert message.attempts == 1 and message.due_at > utcnow() and "503" in message.last_error
        message.due_at = utcnow()
        db.session.commit()
        assert delivery.post_to_teams(message_id) == "sent"
        # A webhook address that answers 401 (its signature changed) is given up, with the reason.
        other = TeamsMessage(campaign_id=campaign_id, object_id=object_id, event=E.APPROVED, data={"title": "x"})
        db.session.add(other)
        db.session.commit()
        from app.models import Campaign

        db.session.get(Campaign, campaign_id).teams_webhook_url = teams_emulator.webhook_url().replace("sig=", "sig=x")
        db.session.commit()
        assert delivery.post_to_teams(other.id) == "gave_up"
        assert "401" in db.session.get(TeamsMessage, other.id).last_error


def test_a_long_text_is_shortened_to_fit_28_kb(app, make_user, teams_emulator):
    editor_id, _ = make_user(Role.EDITOR)
    campaign_id, object_id = a_post(app, editor_id, teams_url=teams_emulator.webhook_url())
    with app.app_context():
        from app.models import ContentObject

        db.session.get(ContentObject, object_id).message = "é" * 40_000
        message = TeamsMessage(
            campaign_id=campaign_id, object_id=object_id, event=E.REVIEW_REQUESTED, data={"title": "Long"}
        )
        db.session.add(message)
        db.session.commit()
        payload = teams.envelope(message)
        assert teams.size(payload) <= teams.MAX_BYTES
        assert delivery.post_to_teams(message.id) == "sent"
    assert teams_emulator.received()[0]["bytes"] <= 28 * 1024


def card(**changes):
    content = {
        "type": "AdaptiveCard",
        "$schema": teams.SCHEMA,
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Bonjour", "wrap": True}],
        "actions": [{"type": "Action.OpenUrl", "title": "Ouvrir", "url": "https://cms.example.org/posts/1"}],
    }
    content.update(changes)
    return {
        "type": "message",
        "attachments": [{"contentType": teams.CONTENT_TYPE, "contentUrl": None, "content": content}],
    }


@pytest.mark.parametrize(
    "payload, status, fragment",
    [
        (card(), 202, None),
        ({**card(), "type": "event"}, 400, "type must be 'message'"),
        ({"type": "message", "attachments": []}, 400, "non-empty"),
        (
            {"type": "message", "attachments": [{**card()["attachments"][0], "contentType": "application/json"}]},
            400,
            "contentType",
        ),
        (card(type="HeroCard"), 400, "AdaptiveCard"),
        (card(version="1.6"), 400, "version"),
        (card(**{"$schema": "https://example.org/schema.json"}), 400, "$schema"),
        (card(body=[{"type": "TextBlock"}]), 400, "text is required"),
        (card(body=[{"type": "Image", "url": "/relative.png"}]), 400, "absolute"),
        (card(body=[{"type": "Table"}], version="1.4"), 400, "needs version 1.5"),
        (card(actions=[{"type": "Action.OpenUrl", "title": "x"}]), 400, "url is required"),
        (card(actions=[{"type": "Action.Http", "title": "x"}]), 400, "not a known type"),
        (card(body=[{"type": "TextBlock", "text": "x" * 29_000}]), 413, "limit"),
    ],
)
def test_the_emulator_refuses_what_teams_refuses(teams_emulator, payload, status, fragment):
    response = httpx.post(
        teams_emulator.webhook_url(), content=json.dumps(payload), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    if fragment:
        assert fragment in response.json()["error"]["message"]
    with pytest.raises(CardError) if status != 202 else _nothing():
        validate(json.dumps(payload).encode())


def test_the_emulator_wants_its_signature_and_json(teams_emulator):
    url = teams_emulator.webhook_url()
    assert httpx.post(url.replace("sig=", "sig=bad"), json=card()).status_code == 401
    assert httpx.post(url, content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(url, content=b"hello", headers={"Content-Type": "text/plain"}).status_code == 415


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
