"""``python -m sandbox.meili --port 7701 --master-key ...``: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from . import MeiliEmulatorConfig, start_meili_emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.meili", description="Serve the Meilisearch emulator on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=7700, help="port (0 picks a free one)")
    parser.add_argument("--master-key", default=None, help="require this Bearer key (default: open mode, no key)")
    parser.add_argument(
        "--task-delay-ms", type=int, default=100, help="time a task stays enqueued before it is processed"
    )
    parser.add_argument("--payload-limit-bytes", type=int, default=100_000_000, help="largest accepted request body")
    args = parser.parse_args(argv)
    config = MeiliEmulatorConfig(
        master_key=args.master_key, task_delay_ms=args.task_delay_ms, payload_limit_bytes=args.payload_limit_bytes
    )
    running = start_meili_emulator(config, port=args.port)
    mode = "master key required" if args.master_key else "open mode"
    print(f"Meilisearch emulator on {running.url} ({mode}); Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


if __name__ == "__main__":
    main()
