"""`make run`'s Make.com: the sandbox emulator served in-process on a fixed loopback port.

Its hooks, scenarios and data store are saved in `instance/make-emulator.json`, so a restart
keeps the campaign scenarios the database points at. Skipped when `MAKE_API_TOKEN` is set in
the environment: the app then talks to that real Make account (see the README).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

# Make emulator ids seeded by sandbox.make.config (team "Media" of organisation "Sandbox").
TEAM_ID, ORGANIZATION_ID = 215, 11
DATASTORE_ID = 1  # the emulator keeps one data store; any id names it


def port() -> int:
    return int(os.environ.get("MAKE_EMULATOR_PORT", "5010"))


def new_token() -> str:
    return str(uuid.uuid4())


class MakeEmulator:
    def __init__(self, state_path: Path, token: str, *, host: str = "127.0.0.1"):
        self.data_dir, self.token, self.host = state_path, token, host
        self.url = f"http://{host}:{port()}"
        self._server = self._app = None

    def start(self) -> "MakeEmulator":
        from sandbox.make import MakeEmulatorConfig, create_app
        from sandbox.server import BackgroundServer

        self._app = create_app(
            MakeEmulatorConfig(tokens=(self.token,), state_path=str(self.data_dir), hook_base_url=f"{self.url}/hook")
        )
        self._server = BackgroundServer(self._app, host=self.host, port=port()).start()
        return self

    def settings(self) -> dict:
        """The app's MAKE_* settings pointing at this emulator."""
        return {
            "MAKE_BASE_URL": f"{self.url}/api/v2",
            "MAKE_HOOK_BASE_URL": f"{self.url}/hook",
            "MAKE_API_TOKEN": self.token,
            "MAKE_TEAM_ID": str(TEAM_ID),
            "MAKE_ORGANIZATION_ID": str(ORGANIZATION_ID),
            "MAKE_DATASTORE_ID": str(DATASTORE_ID),
        }

    def stop(self) -> None:
        from sandbox.make import emulator_of

        self._server.stop()
        emulator_of(self._app).shutdown()
