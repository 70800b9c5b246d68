"""Mail over SMTP with the standard library (`smtplib`, `email`): nothing here needs more, and
the whole transport is a hundred lines we can read. `SMTP_URL` is
`smtp://user:pass@host:587?starttls=1` (STARTTLS), `smtps://user:pass@host:465` (TLS from the
first byte) or `smtp://host:25` (plain, for a local sink); see docs/notifications.md#e-mail."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app


class MailNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: bool
    username: str | None
    password: str | None
    timeout: float
    ca_file: str | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0, ca_file: str | None = None) -> "SmtpSettings":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587?starttls=1 or smtps://host:465")
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes", "on")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 587 if starttls else 25),
            tls=tls,
            starttls=starttls and not tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
            ca_file=ca_file,
        )


def settings() -> SmtpSettings:
    url = current_app.config["SMTP_URL"]
    if not url:
        raise MailNotConfigured("SMTP_URL is not set")
    return SmtpSettings.from_url(
        url, timeout=current_app.config["SMTP_TIMEOUT_S"], ca_file=current_app.config["SMTP_CA_FILE"]
    )


def connect(s: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated connection; certificates are always verified (SMTP_CA_FILE adds
    a private CA, e.g. the test server's)."""
    context = ssl.create_default_context(cafile=s.ca_file)
    if s.tls:
        client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
    else:
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.starttls:
            client.starttls(context=context)
    if s.username:
        client.login(s.username, s.password or "")
    return client


def build(to: str, subject: str, text: str, html: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    if config["MAIL_REPLY_TO"]:
        message["Reply-To"] = config["MAIL_REPLY_TO"]
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rsplit("@", 1)[-1].strip("> "))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def address(name: str, email: str) -> str:
    return formataddr((name, email))
