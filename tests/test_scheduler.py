"""The periodic-jobs loop: each job on its own interval, one failing job does not stop the rest,
and several schedulers at once run each job once per interval (advisory locks, shared last runs)."""

import threading
import time

import sqlalchemy as sa

from app.extensions import db, redis_store
from app.scheduler import JOBS, Job, Scheduler, heartbeat_age, lock_key


def test_jobs_run_on_their_own_interval_and_a_failure_stays_contained(app, monkeypatch):
    runs = []

    def failing():
        runs.append("failing")
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(app.config, "FAST_S", 0.2)
    monkeypatch.setitem(app.config, "SLOW_S", 1.0)
    monkeypatch.setitem(app.config, "OFF_S", 0)
    scheduler = Scheduler(
        app,
        (
            Job("failing", "FAST_S", failing),
            Job("slow", "SLOW_S", lambda: runs.append("slow")),
            Job("off", "OFF_S", lambda: runs.append("off")),
        ),
    )
    started = time.monotonic()
    for offset in (0.0, 0.1, 0.22, 0.6, 1.15):  # as 100, 100.5, 101, 105, 110 s with 1 s and 10 s
        time.sleep(max(0.0, started + offset - time.monotonic()))
        scheduler.tick(time.monotonic())
    assert runs == ["failing", "slow", "failing", "failing", "failing", "slow"]


def test_every_job_interval_is_a_setting(app):
    assert all(isinstance(app.config[job.interval_key], (int, float)) for job in JOBS)


def test_two_schedulers_run_each_job_once_per_tick(app, monkeypatch):
    """Two schedulers tick at the same moments: each job runs once per tick, never twice, never
    two at a time, whichever scheduler gets there first."""
    monkeypatch.setitem(app.config, "A_S", 0.3)
    monkeypatch.setitem(app.config, "B_S", 0.3)
    runs, running, overlaps = [], {"a": 0, "b": 0}, []
    lock = threading.Lock()

    def job(name, seconds):
        def run():
            with lock:
                running[name] += 1
                if running[name] > 1:
                    overlaps.append(name)
            time.sleep(seconds)  # long enough for the other scheduler to try meanwhile
            with lock:
                running[name] -= 1
                runs.append((tick_number[0], name))

        return run

    jobs = (Job("a", "A_S", job("a", 0.05)), Job("b", "B_S", job("b", 0.0)))
    first, second = Scheduler(app, jobs), Scheduler(app, jobs)
    tick_number = [0]
    for number in range(5):
        tick_number[0] = number
        barrier = threading.Barrier(2)

        def tick(scheduler):
            barrier.wait()
            scheduler.tick(time.monotonic())

        threads = [threading.Thread(target=tick, args=(s,)) for s in (first, second)]
        [t.start() for t in threads]
        [t.join(10) for t in threads]
        time.sleep(0.35)
    assert overlaps == []
    for number in range(5):
        assert sorted(name for n, name in runs if n == number) == ["a", "b"], runs


def test_a_job_whose_lock_is_held_elsewhere_is_skipped(app, monkeypatch):
    """Another scheduler in the middle of the job (its advisory lock held): this one skips it."""
    monkeypatch.setitem(app.config, "A_S", 0.1)
    runs = []
    scheduler = Scheduler(app, (Job("held", "A_S", lambda: runs.append("held")),))
    with app.app_context(), db.engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(lock_key("held", db.engine.url.database))))
        try:
            assert scheduler.tick(time.monotonic()) == []
        finally:
            other.execute(sa.select(sa.func.pg_advisory_unlock(lock_key("held", db.engine.url.database))))
            other.commit()
    time.sleep(0.1)
    assert scheduler.tick(time.monotonic()) == ["held"] and runs == ["held"]


def test_each_tick_writes_the_heartbeat(app, monkeypatch):
    monkeypatch.setitem(app.config, "OFF_S", 0)
    scheduler = Scheduler(app, (Job("off", "OFF_S", lambda: None),))
    with app.app_context():
        redis_store.client.delete(redis_store.key("scheduler:heartbeat"))
        assert heartbeat_age() is None
        scheduler.tick(time.monotonic())
        first = heartbeat_age()
        assert first is not None and first < 1
        time.sleep(0.3)
        assert heartbeat_age() >= first + 0.25
        scheduler.tick(time.monotonic())
        assert heartbeat_age() < 0.2


def test_another_databases_scheduler_does_not_hold_this_ones_jobs(app, monkeypatch):
    """Advisory locks belong to the whole server: the lock of the same job for another CMS
    database on it (another site, another test database) does not stop this one."""
    monkeypatch.setitem(app.config, "A_S", 0.1)
    runs = []
    scheduler = Scheduler(app, (Job("shared", "A_S", lambda: runs.append("shared")),))
    with app.app_context(), db.engine.connect() as other:
        elsewhere = lock_key("shared", "another_cms_database")
        assert elsewhere != lock_key("shared", db.engine.url.database)
        other.execute(sa.select(sa.func.pg_advisory_lock(elsewhere)))
        try:
            assert scheduler.tick(time.monotonic()) == ["shared"] and runs == ["shared"]
        finally:
            other.execute(sa.select(sa.func.pg_advisory_unlock(elsewhere)))
            other.commit()
