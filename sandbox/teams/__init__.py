"""A strict local emulator of a Microsoft Teams Workflows webhook ("When a Teams webhook
request is received" → "Post card in a chat or channel"), spoken to over real HTTP.

It checks what the CMS sends as the real flow and Teams would (docs/notifications.md#teams):
the envelope (`type: message`, `attachments[]` with `contentType`
`application/vnd.microsoft.card.adaptive`), the card (`type: AdaptiveCard`, a `version` Teams
renders, at most 1.5, the `$schema`), each body element's and action's type and required
fields, and the 28 KB message limit, answering 202 Accepted as the flow's trigger does. It
records what it accepted for tests. Typical use::

    with start_teams_emulator() as teams:
        url = teams.webhook_url("campaign-1")
        ...
        teams.received()           # the accepted messages, oldest first

From a shell: ``python -m sandbox.teams --port 8767``.
"""

from __future__ import annotations

from .app import TeamsEmulator, create_app, validate
from ..server import BackgroundServer

__all__ = ["RunningTeamsEmulator", "TeamsEmulator", "create_app", "start_teams_emulator", "validate"]


class RunningTeamsEmulator:
    def __init__(self, app, server: BackgroundServer):
        self.app, self.server = app, server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def emulator(self) -> TeamsEmulator:
        return self.app.extensions["teams_emulator"]

    def webhook_url(self, flow: str = "flow-1") -> str:
        return self.emulator.webhook_url(self.url, flow)

    def received(self) -> list[dict]:
        return list(self.emulator.received)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> "RunningTeamsEmulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_teams_emulator(*, port: int = 0, signature: str = "emulator-signature") -> RunningTeamsEmulator:
    app = create_app(signature=signature)
    return RunningTeamsEmulator(app, BackgroundServer(app, port=port).start())
