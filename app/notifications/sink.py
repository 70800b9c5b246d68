"""A local SMTP sink for development (`make run`) and tests: an aiosmtpd server on loopback that
keeps every mail it receives as an .eml file (shown on /dev/mail) and in memory."""

from __future__ import annotations

import time
import uuid
from pathlib import Path


class MailSink:
    def __init__(
        self,
        folder: Path | None = None,
        *,
        port: int = 0,
        tls_context=None,
        implicit_tls_context=None,
        auth: tuple[str, str] | None = None,
    ):
        from aiosmtpd.controller import Controller

        self.folder = folder
        self.messages: list[dict] = []
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        kwargs = {}
        if tls_context is not None:  # STARTTLS, required before anything else
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if implicit_tls_context is not None:  # TLS from the first byte (smtps)
            kwargs.update(ssl_context=implicit_tls_context)
        if auth is not None:
            kwargs.update(authenticator=self._authenticator(auth), auth_require_tls=tls_context is not None)
        else:
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(self, hostname="127.0.0.1", port=port or _free_port(), **kwargs)

    @staticmethod
    def _authenticator(expected):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        def check(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and (auth_data.login.decode(), auth_data.password.decode()) == expected
            )
            return AuthResult(success=ok)

        return check

    async def handle_DATA(self, server, session, envelope):
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.content,
            "tls": session.ssl is not None,
        }
        self.messages.append(record)
        if self.folder is not None:
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
            (self.folder / name).write_bytes(envelope.content)
        return "250 Message accepted for delivery"

    @property
    def port(self) -> int:
        return self.controller.port

    def url(self, scheme: str = "smtp", query: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{query}"

    def start(self) -> "MailSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def data_dir(self):
        return self.folder


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
