"""Start the emulator over loopback TLS, with a certificate authority clients are told to trust.

MSAL only accepts an ``https://host/<tenant>`` authority, so the emulator speaks TLS. A CA is
made with ``trustme`` (or reloaded from ``ca_dir`` so that a restart keeps clients' trust), and
clients pass its PEM file: ``msal.ConfidentialClientApplication(..., verify=str(ca_path))`` and
``httpx.Client(verify=ssl.create_default_context(cafile=ca_path))``. Beware that ``requests``
(inside MSAL) lets a ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` environment variable override
``verify=``: unset them, or point them at ``ca_path``.

Two servers share the one app. The API origin serves the token endpoint and ``/v1.0``; the
content origin serves upload and download URLs, as SharePoint serves them from another host.
Because the origins differ, httpx drops the bearer token when following a download's 302, and
a client that sends the token to an upload URL on purpose is caught (401).
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import trustme

from ..server import BackgroundServer
from .app import create_app
from .config import GraphEmulatorConfig
from .state import GraphEmulator

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


@dataclass
class RunningGraphEmulator:
    api_server: BackgroundServer
    content_server: BackgroundServer
    emulator: GraphEmulator
    ca_path: Path
    _owned_ca_dir: Path | None = None

    @property
    def config(self) -> GraphEmulatorConfig:
        return self.emulator.config

    @property
    def authority_host(self) -> str:
        """``AAD_AUTHORITY``: the client appends ``/{tenant}``."""
        return self.api_server.url

    @property
    def authority(self) -> str:
        """The full authority MSAL takes: ``https://127.0.0.1:{port}/{tenant}``."""
        return f"{self.api_server.url}/{self.config.tenant_id}"

    @property
    def graph_base(self) -> str:
        """``GRAPH_BASE_URL``: ``https://127.0.0.1:{port}/v1.0``."""
        return f"{self.api_server.url}/v1.0"

    @property
    def control_url(self) -> str:
        return f"{self.api_server.url}/_emulator"

    def client_ssl_context(self) -> ssl.SSLContext:
        """For ``httpx.Client(verify=...)``: trusts this emulator's CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def stop(self) -> None:
        # Each server takes up to its poll interval (0.5 s) to notice; stop both at once.
        stoppers = [threading.Thread(target=server.stop) for server in (self.api_server, self.content_server)]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self.emulator.close()
        if self._owned_ca_dir is not None:
            shutil.rmtree(self._owned_ca_dir, ignore_errors=True)

    def __enter__(self) -> "RunningGraphEmulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_graph_emulator(
    config: GraphEmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    content_port: int = 0,
    ca_dir: Path | str | None = None,
) -> RunningGraphEmulator:
    """Serve a fresh emulator; ``port=0`` picks free ports. Without ``ca_dir`` the CA lives in a
    temporary directory removed by ``stop()``."""
    owned_ca_dir = None if ca_dir is not None else Path(tempfile.mkdtemp(prefix="graph-ca-"))
    ca_dir = Path(ca_dir) if ca_dir is not None else owned_ca_dir
    ca = load_or_create_ca(ca_dir)
    tls = server_tls_context(ca, host)
    app = create_app(config)
    emulator: GraphEmulator = app.extensions["graph_emulator"]
    api_server = BackgroundServer(app, host=host, port=port, ssl_context=tls)
    content_server = BackgroundServer(app, host=host, port=content_port, ssl_context=tls)
    emulator.content_base_url = content_server.url + "/"
    api_server.start()
    content_server.start()
    return RunningGraphEmulator(api_server, content_server, emulator, ca_dir / CA_CERT_FILE, owned_ca_dir)


def load_or_create_ca(ca_dir: Path) -> trustme.CA:
    """Reuse the CA kept in ``ca_dir`` so clients configured with its PEM keep trusting us."""
    ca_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = ca_dir / CA_CERT_FILE, ca_dir / CA_KEY_FILE
    if cert_path.exists() and key_path.exists():
        return trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    ca = trustme.CA(organization_name="Graph emulator (local testing only)")
    ca.cert_pem.write_to_path(str(cert_path))
    ca.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    return ca


def server_tls_context(ca: trustme.CA, host: str) -> ssl.SSLContext:
    names = list(dict.fromkeys([host, "127.0.0.1", "localhost"]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context
