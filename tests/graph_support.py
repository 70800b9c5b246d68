"""Where the Graph tests send their calls: the sandbox emulator, and a real SharePoint library
when `GRAPH_TEST_TENANT_ID`, `GRAPH_TEST_CLIENT_ID`, `GRAPH_TEST_CLIENT_SECRET` and
`GRAPH_TEST_DRIVE_ID` are set (the same tests, minus those that inject faults)."""
from __future__ import annotations

import os
import uuid

import pytest

from app.integrations.graph import FRAGMENT, GraphSettings

TENANT_VARIABLES = ("GRAPH_TEST_TENANT_ID", "GRAPH_TEST_CLIENT_ID", "GRAPH_TEST_CLIENT_SECRET", "GRAPH_TEST_DRIVE_ID")
SIMPLE_MAX = 64 * 1024  # small limits, so that a few hundred KiB exercise every path
NO_TENANT = "real-tenant run skipped: set " + ", ".join(TENANT_VARIABLES) + " to run it against SharePoint"


def emulator_settings(graph, **overrides) -> GraphSettings:
    values = dict(tenant_id=graph.config.tenant_id, client_id=graph.config.client_id,
                  client_secret=graph.config.client_secret, drive_id=graph.config.drive_id,
                  authority_host=graph.authority_host, base_url=graph.graph_base, ca_bundle=str(graph.ca_path),
                  folder=f"cms-tests/{uuid.uuid4().hex[:8]}", chunk_bytes=FRAGMENT,
                  simple_upload_max_bytes=SIMPLE_MAX, backoff_base_s=0.01)
    return GraphSettings(**{**values, **overrides})


def tenant_settings(**overrides) -> GraphSettings:
    if not all(os.environ.get(name) for name in TENANT_VARIABLES):
        pytest.skip(NO_TENANT)
    values = dict(tenant_id=os.environ["GRAPH_TEST_TENANT_ID"], client_id=os.environ["GRAPH_TEST_CLIENT_ID"],
                  client_secret=os.environ["GRAPH_TEST_CLIENT_SECRET"], drive_id=os.environ["GRAPH_TEST_DRIVE_ID"],
                  folder=f"cms-tests/{uuid.uuid4().hex[:8]}", chunk_bytes=FRAGMENT, simple_upload_max_bytes=SIMPLE_MAX)
    return GraphSettings(**{**values, **overrides})


def clear_ca_overrides(monkeypatch) -> None:
    """`requests` (inside MSAL) lets these variables override `verify=`."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
