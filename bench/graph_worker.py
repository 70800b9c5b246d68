"""A Dramatiq worker in a process of its own, so that bench/media_upload.py can read its peak
RSS (VmHWM): the app built from the environment as `worker.py` builds it, one worker thread,
stopped by SIGTERM. Prints "ready" once it consumes messages."""

from __future__ import annotations

import signal
import threading

import _stack  # noqa: F401  (puts the repository on sys.path)

import dramatiq

from app import create_app


def main() -> None:
    app = create_app()
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    print("ready", flush=True)
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
