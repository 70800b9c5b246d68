"""Serve a WSGI app on loopback in a background thread (tests, benchmarks, ``make run``)."""

from __future__ import annotations

import ssl
import threading

from werkzeug.serving import make_server


class BackgroundServer:
    """A threaded Werkzeug server on 127.0.0.1.

    ``port=0`` picks a free port; ``url`` is known once constructed. Pass an
    ``ssl.SSLContext`` to serve HTTPS (the Graph emulator's token endpoint needs it).
    """

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None):
        self._server = make_server(host, port, app, threaded=True, ssl_context=ssl_context)
        self.host = host
        self.port = self._server.server_port
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        # A short poll interval makes stop() return at once instead of after 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.port}", daemon=True
        )

    def start(self) -> "BackgroundServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
