"""The periodic jobs (Dramatiq has no scheduler): `python -m app.scheduler`.

A small loop: every `SCHEDULER_RELAY_INTERVAL_S` the outbox relay hands due publications
(approved now, scheduled for now, retries whose back-off is over, rows whose actor died) to the
`publish` actor, and recorded Make callbacks still pending past their `requeue_at` (their
message was lost) to the `apply_callback` actor; every `SCHEDULER_SWEEP_INTERVAL_S` sent
publications without a callback in time become `unknown`. Run one scheduler per installation
(several are safe: both jobs lock rows with SKIP LOCKED, but one is enough). `make run` runs
it in a thread of its process.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, app):
        self.app = app
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: float, last_sweep: float) -> float:
        from app.extensions import db
        from app.publishing import relay, results

        with self.app.app_context():
            try:
                relay.relay()
                results.requeue_stranded()
                if now - last_sweep >= self.app.config["SCHEDULER_SWEEP_INTERVAL_S"]:
                    relay.sweep_stuck()
                    last_sweep = now
            except Exception:  # a database hiccup must not kill the loop
                log.exception("scheduler tick failed")
                db.session.rollback()
            finally:
                db.session.remove()
        return last_sweep

    def run(self) -> None:
        last_sweep = 0.0
        interval = self.app.config["SCHEDULER_RELAY_INTERVAL_S"]
        while not self._stop.is_set():
            last_sweep = self.tick(time.monotonic(), last_sweep)
            self._stop.wait(interval)

    def start(self) -> "Scheduler":
        self._thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def main() -> None:
    import signal

    from app import create_app

    logging.basicConfig(level=logging.INFO)
    scheduler = Scheduler(create_app())
    signal.signal(signal.SIGTERM, lambda *_: scheduler._stop.set())
    try:
        scheduler.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
