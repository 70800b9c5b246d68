"""``python -m sandbox.teams --port 8767``: serve the Teams Workflows webhook emulator."""

from __future__ import annotations

import argparse
import threading

from . import start_teams_emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.teams", description="Serve the Teams Workflows webhook emulator on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8767, help="port (0 picks a free one)")
    args = parser.parse_args(argv)
    running = start_teams_emulator(port=args.port)
    print(f"Teams emulator on {running.url}; a campaign's webhook: {running.webhook_url('campaign')}")
    print(f"Received cards: {running.url}/_emulator/messages")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
