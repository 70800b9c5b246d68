"""The settings of one SharePoint library, and Graph's fixed sizes and timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import httpx

MiB = 1024 * 1024
FRAGMENT = 327_680  # Graph's fragment granularity: every chunk but the last is a multiple of it
MAX_FRAGMENT = 60 * MiB
SCOPES = ["https://graph.microsoft.com/.default"]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CHUNK_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
CONFLICT_BEHAVIORS = ("fail", "replace", "rename")


@dataclass(frozen=True)
class GraphSettings:
    tenant_id: str
    client_id: str
    client_secret: str
    drive_id: str
    authority_host: str = "https://login.microsoftonline.com"
    base_url: str = "https://graph.microsoft.com/v1.0"
    folder: str = "cms-media"
    ca_bundle: str | None = None
    link_type: str = "view"
    link_scope: str = "organization"
    chunk_bytes: int = 10 * MiB
    simple_upload_max_bytes: int = 4 * MiB
    attempts: int = 5
    retry_max_wait_s: float = 300.0
    backoff_base_s: float = 1.0

    def __post_init__(self):
        if self.chunk_bytes % FRAGMENT or not 0 < self.chunk_bytes < MAX_FRAGMENT:
            raise ValueError(
                f"the chunk size must be a multiple of {FRAGMENT} bytes under 60 MiB, not {self.chunk_bytes}"
            )
        if not 0 <= self.simple_upload_max_bytes <= 4 * MiB:
            raise ValueError("simple uploads are limited to 4 MiB")

    @classmethod
    def from_config(cls, config: Mapping) -> "GraphSettings":
        missing = [
            k
            for k in ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_DRIVE_ID")
            if not config.get(k)
        ]
        if missing:
            raise ValueError("the SharePoint backend needs " + ", ".join(missing))
        return cls(
            tenant_id=config["GRAPH_TENANT_ID"],
            client_id=config["GRAPH_CLIENT_ID"],
            client_secret=config["GRAPH_CLIENT_SECRET"],
            drive_id=config["GRAPH_DRIVE_ID"],
            authority_host=config["AAD_AUTHORITY"].rstrip("/"),
            base_url=config["GRAPH_BASE_URL"].rstrip("/"),
            folder=config["GRAPH_FOLDER"].strip("/"),
            ca_bundle=config.get("GRAPH_CA_BUNDLE"),
            link_type=config["SHAREPOINT_LINK_TYPE"],
            link_scope=config["SHAREPOINT_LINK_SCOPE"],
            chunk_bytes=config["GRAPH_CHUNK_BYTES"],
            simple_upload_max_bytes=config["GRAPH_SIMPLE_UPLOAD_MAX_BYTES"],
            retry_max_wait_s=config["GRAPH_RETRY_MAX_WAIT_S"],
        )
