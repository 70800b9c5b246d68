"""Everything one emulator instance remembers, in one object that tests can reach.

``create_app`` puts it in ``app.extensions["graph_emulator"]``; request handlers reach it with
:func:`current_emulator`, tests through ``RunningGraphEmulator.emulator``. One re-entrant lock
guards the tree, links and session registry; request bodies are streamed outside it.
"""

from __future__ import annotations

import secrets
import threading
from flask import current_app, request

from .blobs import BlobStore
from .config import GraphEmulatorConfig
from .faults import Counters, Faults
from .sessions import UploadSessions
from .tokens import TokenStore
from .tree import Drive


class GraphEmulator:
    def __init__(self, config: GraphEmulatorConfig):
        self.config = config
        self.clock = config.clock
        self.lock = threading.RLock()
        self.instance = secrets.token_hex(4)  # delta tokens from another run are refused (410)
        self.blobs = BlobStore(config.storage_dir)
        self.drive = Drive(config, self.blobs)
        self.tokens = TokenStore(config.clock, config.token_lifetime_s)
        self.uploads = UploadSessions(self.blobs, config.clock, config.upload_session_ttl_s)
        self.faults = Faults()
        self.counters = Counters()
        self.links: dict[tuple[str, str, str], dict] = {}  # (item id, type, scope) -> permission
        # Upload and download URLs live on a second origin, as on SharePoint, so a client that
        # forwards its bearer token there is caught; None serves them from the API origin.
        self.content_base_url: str | None = None

    def content_base(self) -> str:
        """Base URL (with trailing slash) for pre-authenticated upload and download URLs."""
        return self.content_base_url or request.host_url

    def close(self) -> None:
        self.blobs.close()


def current_emulator() -> GraphEmulator:
    return current_app.extensions["graph_emulator"]
