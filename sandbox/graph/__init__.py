"""A strict local emulator of Microsoft Graph (one SharePoint library) and Entra ID tokens.

Built to ``docs/external-apis.md`` §2 so the CMS's real client (MSAL + httpx) runs against it
unmodified over HTTPS::

    with start_graph_emulator(GraphEmulatorConfig(thumbnail_delay_s=0)) as graph:
        app = msal.ConfidentialClientApplication(graph.config.client_id,
            client_credential=graph.config.client_secret, authority=graph.authority,
            instance_discovery=False, verify=str(graph.ca_path))
        httpx.get(f"{graph.graph_base}/drives/{graph.config.drive_id}/root",
                  verify=graph.client_ssl_context(), headers={"Authorization": ...})
        graph.emulator.faults.fail_requests(429, count=2, retry_after=1)

``create_app(config)`` gives the bare WSGI app (e.g. for another server); the knobs are on
``app.extensions["graph_emulator"]`` and under ``/_emulator`` over HTTP.
"""

from .app import create_app
from .config import GraphEmulatorConfig
from .runner import RunningGraphEmulator, start_graph_emulator
from .state import GraphEmulator

__all__ = ["GraphEmulator", "GraphEmulatorConfig", "RunningGraphEmulator", "create_app", "start_graph_emulator"]
