"""``python -m sandbox.graph --port 8766 --ca-dir instance/graph-ca``: serve until interrupted.

Prints the settings a CMS needs to point at the emulator (authority, tenant, client id and
secret, Graph base URL, site and drive ids, CA bundle).
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .config import GraphEmulatorConfig
from .runner import start_graph_emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.graph", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766, help="token endpoint and /v1.0 API")
    parser.add_argument("--content-port", type=int, default=None, help="upload and download URLs (default: --port + 1)")
    parser.add_argument(
        "--ca-dir",
        type=Path,
        default=Path("instance/graph-ca"),
        help="where the CA is kept (ca.pem is the bundle clients trust)",
    )
    parser.add_argument("--storage-dir", type=Path, default=None, help="blob files (default: a temporary directory)")
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=None,
        metavar="SECONDS",
        help="upload session lifetime, extended by each fragment (default 900)",
    )
    parser.add_argument(
        "--thumbnail-delay",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long thumbnails stay empty after an upload (default 2)",
    )
    args = parser.parse_args(argv)

    overrides = {"upload_session_ttl_s": args.session_ttl, "thumbnail_delay_s": args.thumbnail_delay}
    config = GraphEmulatorConfig(storage_dir=args.storage_dir, **{k: v for k, v in overrides.items() if v is not None})
    content_port = args.content_port if args.content_port is not None else args.port + 1
    running = start_graph_emulator(
        config, host=args.host, port=args.port, content_port=content_port, ca_dir=args.ca_dir
    )
    print(
        f"Graph emulator ready (Ctrl-C stops it)\n"
        f"  AAD_AUTHORITY={running.authority_host}\n"
        f"  GRAPH_TENANT_ID={config.tenant_id}\n"
        f"  GRAPH_CLIENT_ID={config.client_id}\n"
        f"  GRAPH_CLIENT_SECRET={config.client_secret}\n"
        f"  GRAPH_BASE_URL={running.graph_base}\n"
        f"  GRAPH_DRIVE_ID={config.drive_id}\n"
        f"  GRAPH_CA_BUNDLE={running.ca_path.resolve()}\n"
        f"  scope: https://graph.microsoft.com/.default\n"
        f"  knobs and counters: {running.control_url}/state",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


if __name__ == "__main__":
    main()
