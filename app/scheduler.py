"""The periodic jobs (Dramatiq has no scheduler): `python -m app.scheduler`.

A small loop over `JOBS`, each run when its interval (a config key) has passed:

- every `SCHEDULER_RELAY_INTERVAL_S` (1 s) the outbox relay hands due publications (approved
  now, scheduled for now, retries whose back-off is over, rows whose actor died) to the
  `publish` actor, and the recorded Make callbacks that are due (just recorded, or still
  pending `CALLBACK_REQUEUE_AFTER_S` after their hand-over) to the `apply_callbacks` actor;
- every `SCHEDULER_SWEEP_INTERVAL_S` (30 s) sent publications without a callback in time
  become `unknown`;
- every `GRAPH_DELTA_INTERVAL_S` (60 s), with the SharePoint backend, the
  `sync_library_changes` actor reads the library's change feed (app/media/graph_sync.py);
- every `MEDIA_SWEEP_INTERVAL_S` (1 h) the `sweep_orphans` actor removes the media files
  nothing references (app/media/sweeper.py);
- every `MAKE_DOCTOR_INTERVAL_S` (24 h) the `run_make_doctor` actor checks the Make side and
  keeps the report, drift included (app/integrations/doctor.py).

A job does its own short database work or enqueues an actor for anything slow or remote (the
loop must stay on time). Run one scheduler per installation (several are safe: the jobs lock
rows with SKIP LOCKED or enqueue idempotent actors, but one is enough). `make run` runs it in
a thread of its process.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)


def _relay() -> None:
    from app.publishing import relay, results

    relay.relay()
    results.hand_over_due()


def _sweep_stuck() -> None:
    from app.publishing import relay

    relay.sweep_stuck()


def _sweep_orphans() -> None:
    from app.tasks.media import sweep_orphans

    sweep_orphans.send()  # walking the media folders may take a while: the worker does it


def _graph_delta() -> None:
    from flask import current_app

    from app.models import StorageBackend
    from app.tasks.media import sync_library_changes

    if current_app.config["STORAGE_BACKEND"] == StorageBackend.SHAREPOINT.value:
        sync_library_changes.send()  # Graph calls and downloads: the worker does them


def _make_doctor() -> None:
    from app.tasks.make import run_make_doctor

    run_make_doctor.send()  # Make API calls, one per scenario: the worker does them


@dataclass(frozen=True)
class Job:
    name: str
    interval_key: str          # config key holding the interval in seconds (0: never)
    run: Callable[[], None]    # called inside an app context


JOBS = (
    Job("relay", "SCHEDULER_RELAY_INTERVAL_S", _relay),
    Job("sweep_stuck", "SCHEDULER_SWEEP_INTERVAL_S", _sweep_stuck),
    Job("graph_delta", "GRAPH_DELTA_INTERVAL_S", _graph_delta),
    Job("sweep_orphans", "MEDIA_SWEEP_INTERVAL_S", _sweep_orphans),
    Job("make_doctor", "MAKE_DOCTOR_INTERVAL_S", _make_doctor),
)


class Scheduler:
    def __init__(self, app, jobs: tuple[Job, ...] = JOBS):
        self.app = app
        self.jobs = jobs
        self._last_run: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, now: float) -> list[Job]:
        due = []
        for job in self.jobs:
            interval = self.app.config[job.interval_key]
            last = self._last_run.get(job.name)
            if interval and (last is None or now - last >= interval):
                due.append(job)
        return due

    def tick(self, now: float) -> None:
        """Run the jobs that are due; one failing (a database hiccup) neither stops the others
        nor the loop."""
        from app.extensions import db

        with self.app.app_context():
            for job in self.due(now):
                self._last_run[job.name] = now
                try:
                    job.run()
                except Exception:
                    log.exception("scheduler job %s failed", job.name)
                    db.session.rollback()
            db.session.remove()

    def run(self) -> None:
        tick = min(self.app.config[job.interval_key] for job in self.jobs
                   if self.app.config[job.interval_key])
        while not self._stop.is_set():
            self.tick(time.monotonic())
            self._stop.wait(tick)

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
