"""A strict local emulator of Meilisearch, spoken to over real HTTP by the official client.

It follows section 3 of ``docs/external-apis.md``: the routes the CMS uses, async
tasks that must be polled, Meilisearch's filter grammar and error codes, and
fault knobs for failover tests. Typical use in a test::

    with start_meili_emulator(MeiliEmulatorConfig(master_key="secret")) as meili:
        client = meilisearch.Client(meili.url, "secret")
        ...
        meili.faults.delay_responses(500)     # or PATCH /_emulator/faults over HTTP

From a shell: ``python -m sandbox.meili --port 7701 --master-key secret``.
"""

from __future__ import annotations

from flask import Flask

from ..server import BackgroundServer

from .api import MeiliEmulator, create_app
from .config import MeiliEmulatorConfig
from .faults import FaultKnobs
from .web import EXTENSION_KEY

__all__ = ["MeiliEmulator", "MeiliEmulatorConfig", "RunningMeiliEmulator", "create_app", "start_meili_emulator"]


class RunningMeiliEmulator:
    """An emulator served on loopback; ``stop()`` ends the server and the task worker."""

    def __init__(self, app: Flask, server: BackgroundServer) -> None:
        self.app = app
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def emulator(self) -> MeiliEmulator:
        return self.app.extensions[EXTENSION_KEY]

    @property
    def faults(self) -> FaultKnobs:
        return self.emulator.faults

    def reset(self) -> None:
        self.emulator.reset()

    def stop(self) -> None:
        self.server.stop()
        self.emulator.close()

    def __enter__(self) -> "RunningMeiliEmulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_meili_emulator(config: MeiliEmulatorConfig | None = None, *, port: int = 0) -> RunningMeiliEmulator:
    """Build the app and serve it on 127.0.0.1 (a free port unless ``port`` is given)."""
    app = create_app(config)
    return RunningMeiliEmulator(app, BackgroundServer(app, port=port).start())
