"""The local SMTP sink of `make run` and the /dev/mail page: only in local development."""

import smtplib
from email.message import EmailMessage

from app.launcher import start_mail_sink
from app.models import Role
from tests.conftest import make_test_app
from tests.notifications_support import login


def test_dev_mail_lists_what_the_sink_received_in_development_only(
    servers, test_database, tmp_path, monkeypatch, make_user
):
    monkeypatch.delenv("SMTP_URL", raising=False)
    stack = []
    monkeypatch.setattr("app.launcher.INSTANCE", tmp_path)
    settings = start_mail_sink(stack)
    try:
        assert settings["SMTP_URL"].startswith("smtp://127.0.0.1:") and settings["DEV_MAIL_DIR"] == str(
            tmp_path / "dev-mail"
        )
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "cms@example.org", "paul@example.org", "Bonjour Paul"
        message.set_content("Le texte")
        message.add_alternative("<p>Le texte</p>", subtype="html")
        port = int(settings["SMTP_URL"].rsplit(":", 1)[1])
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message)
        dev = make_test_app(servers, test_database, APP_ENV="development", DEV_MAIL_DIR=settings["DEV_MAIL_DIR"])
        make_user(Role.EDITOR, email="dev@example.org")
        client = login(dev, "dev@example.org")
        page = client.get("/dev/mail", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Bonjour Paul" in page and "Le texte" in page and "See the HTML version" in page
        assert client.get("/dev/mail/../secrets.html").status_code == 404
    finally:
        for service in stack:
            service.stop()


def test_dev_mail_does_not_exist_outside_local_development(client, auth):
    auth.login("admin")
    assert client.get("/dev/mail").status_code == 404
