"""The periodic-jobs loop: each job on its own interval, one failing job does not stop the rest."""
from app.scheduler import JOBS, Job, Scheduler


def test_jobs_run_on_their_own_interval_and_a_failure_stays_contained(app, monkeypatch):
    runs = []

    def failing():
        runs.append("failing")
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(app.config, "FAST_S", 1)
    monkeypatch.setitem(app.config, "SLOW_S", 10)
    monkeypatch.setitem(app.config, "OFF_S", 0)
    scheduler = Scheduler(app, (Job("failing", "FAST_S", failing),
                                Job("slow", "SLOW_S", lambda: runs.append("slow")),
                                Job("off", "OFF_S", lambda: runs.append("off"))))
    for now in (100.0, 100.5, 101.0, 105.0, 110.0):
        scheduler.tick(now)
    assert runs == ["failing", "slow", "failing", "failing", "failing", "slow"]


def test_every_job_interval_is_a_setting(app):
    assert all(isinstance(app.config[job.interval_key], (int, float)) for job in JOBS)
