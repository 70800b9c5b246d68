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
  keeps the report, drift included (app/integrations/doctor.py);
- every `NOTIFY_RELAY_INTERVAL_S` (15 s) the notification mails and Teams cards due again (after
  an SMTP or Teams error, or a lost message) go to their actors, and every
  `NOTIFY_DIGEST_INTERVAL_S` (24 h) each user's daily digest (app/notifications/delivery.py).
- every `APPROVAL_EXPIRY_INTERVAL_S` (60 s) approvals that expired at their scheduled moment
  send their posts back to review (app/reviews/expiry.py).

A job does its own short database work or enqueues an actor for anything slow or remote (the
loop must stay on time). `make run` runs it in a thread of its process.

Several schedulers may run at once (one per host, for availability): each job runs under a
PostgreSQL advisory lock of its own, taken with a try-lock (a scheduler that finds it taken skips
the job), and the time of its last run is kept in Redis, so that whichever scheduler comes next
runs it once per interval, never twice. Each tick writes a heartbeat in Redis: `/readyz` turns
503 and the `cms_scheduler_heartbeat_age_seconds` metric grows when no scheduler is alive
(docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)
HEARTBEAT_KEY = "scheduler:heartbeat"
LAST_RUN_KEY = "scheduler:last-run:"
# A job counts as run for this share of its interval: two schedulers ticking out of phase never
# both run it within one interval, and one scheduler waking a few ms early does not skip a turn.
RUN_SPACING = 0.75


def _relay() -> None:
    from app.publishing import relay, results

    relay.relay()
    results.hand_over_due()


def _sweep_stuck() -> None:
    from app.publishing import relay

    relay.sweep_stuck()


def _sweep_orphans() -> None:
    from flask import current_app

    from app.models import StorageBackend
    from app.tasks import by_name

    by_name("sweep_orphans").send()  # walking the media folders may take a while: the worker does it
    if current_app.config["STORAGE_BACKEND"] == StorageBackend.SHAREPOINT.value:
        by_name("sweep_sharepoint_renditions").send()  # Graph calls: on the graph queue


def _graph_delta() -> None:
    from flask import current_app

    from app.models import StorageBackend
    from app.tasks import by_name

    if current_app.config["STORAGE_BACKEND"] == StorageBackend.SHAREPOINT.value:
        by_name("sync_library_changes").send()  # Graph calls and downloads: the worker does them


def _make_doctor() -> None:
    from app.tasks import by_name

    by_name("run_make_doctor").send()  # Make API calls, one per scenario: the worker does them


def _notifications(what: str) -> None:
    from app.notifications import delivery

    getattr(delivery, what)()  # mails and Teams cards due again, or the daily digests: actors send them


def _call(module: str, function: str):
    """A job that calls `module.function()` (imported when it runs, as the app is ready by then)."""
    return lambda: getattr(__import__(module, fromlist=[function]), function)()


@dataclass(frozen=True)
class Job:
    name: str
    interval_key: str  # config key holding the interval in seconds (0: never)
    run: Callable[[], None]  # called inside an app context


JOBS = (
    Job("relay", "SCHEDULER_RELAY_INTERVAL_S", _relay),
    Job("sweep_stuck", "SCHEDULER_SWEEP_INTERVAL_S", _sweep_stuck),
    Job("graph_delta", "GRAPH_DELTA_INTERVAL_S", _graph_delta),
    Job("sweep_orphans", "MEDIA_SWEEP_INTERVAL_S", _sweep_orphans),
    Job("make_doctor", "MAKE_DOCTOR_INTERVAL_S", _make_doctor),
    Job("recovery", "RECOVERY_INTERVAL_S", _call("app.recovery", "resend_stuck")),  # lost messages (app/recovery.py)
    Job(
        "retention", "RETENTION_INTERVAL_S", _call("app.retention", "run")
    ),  # old callbacks and audit (app/retention.py)
    Job("notifications", "NOTIFY_RELAY_INTERVAL_S", lambda: _notifications("relay")),
    Job("mail_digest", "NOTIFY_DIGEST_INTERVAL_S", lambda: _notifications("digest")),
    Job(
        "approval_expiry", "APPROVAL_EXPIRY_INTERVAL_S", _call("app.reviews.expiry", "expire_due")
    ),  # docs/approval-chains.md
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

    def tick(self, now: float) -> list[str]:
        """Run the jobs that are due, each under its lock; one failing (a database hiccup)
        neither stops the others nor the loop. Returns the names of the jobs this scheduler ran."""
        from app.extensions import db

        ran = []
        with self.app.app_context():
            write_heartbeat()
            for job in self.due(now):
                self._last_run[job.name] = now
                if run_exclusively(job, self.app.config[job.interval_key]):
                    ran.append(job.name)
            db.session.remove()
        return ran

    def run(self) -> None:
        tick = min(
            [self.app.config[job.interval_key] for job in self.jobs if self.app.config[job.interval_key]]
            + [self.app.config["SCHEDULER_HEARTBEAT_S"]]
        )
        log.info(
            "scheduler started: %s",
            ", ".join(
                f"{job.name} every {self.app.config[job.interval_key]:g} s"
                for job in self.jobs
                if self.app.config[job.interval_key]
            ),
        )
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


def lock_key(job_name: str, database: str | None = None) -> int:
    """The job's advisory lock id: a stable 64-bit number from the database's name and the job's.

    Advisory locks belong to the whole PostgreSQL server, not to one database: two CMS
    databases on one server (two sites, or the test suite's databases) must not share them."""
    digest = hashlib.blake2b(f"cms-scheduler:{database or ''}:{job_name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def last_run_key(job_name: str) -> str:
    """The Redis key of the job's last run, per database for the same reason as its lock."""
    from app.extensions import db, redis_store

    return redis_store.key(f"{LAST_RUN_KEY}{db.engine.url.database or ''}:{job_name}")


def run_exclusively(job: Job, interval: float) -> bool:
    """Run `job` unless another scheduler holds its lock or ran it less than an interval ago.

    The lock is a transaction-level advisory lock on a connection of its own, held while the
    job runs (the job commits on the app's session; a crash releases the lock with the
    connection)."""
    from app.extensions import db

    with db.engine.connect() as connection, connection.begin():
        key = lock_key(job.name, db.engine.url.database)
        if not connection.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key))):
            return False
        if not _claim_turn(job.name, interval):
            return False
        try:
            job.run()
        except Exception:
            log.exception("scheduler job %s failed", job.name)
            db.session.rollback()
        return True


def _redis_now(client) -> float:
    seconds, micros = client.time()  # one clock for every scheduler host
    return seconds + micros / 1e6


def _claim_turn(job_name: str, interval: float) -> bool:
    """Record this run in Redis unless another scheduler's run is too recent (called under the
    job's lock, so reading and writing cannot interleave). Without Redis the job still runs:
    the lock alone keeps two runs apart."""
    from app.extensions import redis_store

    try:
        client = redis_store.client
        key = last_run_key(job_name)
        now, last = _redis_now(client), client.get(key)
        if last is not None and now - float(last) < RUN_SPACING * interval:
            return False
        client.set(key, repr(now), ex=max(60, int(interval * 3)))
    except Exception:
        log.warning("scheduler: last run of %s unknown (Redis), running it", job_name, exc_info=True)
    return True


def write_heartbeat() -> None:
    from flask import current_app

    from app.extensions import redis_store

    try:
        client = redis_store.client
        beat = {"at": _redis_now(client), "host": socket.gethostname(), "pid": os.getpid()}
        ttl = max(60, int(10 * current_app.config["SCHEDULER_HEARTBEAT_S"]))
        client.set(redis_store.key(HEARTBEAT_KEY), json.dumps(beat), ex=ttl)
    except Exception:
        log.warning("scheduler heartbeat not written (Redis)", exc_info=True)


def heartbeat_age() -> float | None:
    """Seconds since a scheduler last ticked (by Redis's clock); None when none is on record."""
    from app.extensions import redis_store

    client = redis_store.client
    raw = client.get(redis_store.key(HEARTBEAT_KEY))
    if raw is None:
        return None
    return max(0.0, _redis_now(client) - json.loads(raw)["at"])


def main() -> None:
    import signal

    from app import ConfigurationError, create_app

    try:
        app = create_app()
    except ConfigurationError as exc:
        raise SystemExit(f"scheduler: {exc}")
    scheduler = Scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler._stop.set())
    try:
        scheduler.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
