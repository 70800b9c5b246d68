import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parent.parent


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["database"]["revision"] == body["checks"]["database"]["head"]


def test_readyz_with_the_database_unreachable(servers):
    app = make_test_app(
        servers,
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["ok"] is False
    assert response.json["checks"]["redis"]["ok"] is True


def test_readyz_with_redis_unreachable(servers, test_database):
    app = make_test_app(servers, test_database, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["redis"]["ok"] is False


def test_readyz_before_migrations(servers):
    from tests.conftest import create_database, drop_database

    url = create_database(servers.database_url)
    try:
        response = make_test_app(servers, url).test_client().get("/readyz")
        assert response.status_code == 503 and response.json["checks"]["database"]["ok"] is False
    finally:
        drop_database(servers.database_url, url)


def test_readyz_reports_stuck_publications_without_failing(client):
    body = client.get("/readyz").json
    assert body["checks"]["publications"] == {"ok": True, "unknown": 0}


def test_readyz_never_shows_exception_text(servers):
    app = make_test_app(
        servers,
        "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nowhere",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/readyz")
    assert response.json["checks"]["database"] == {
        "ok": False,
        "error": "unavailable",
        "ms": response.json["checks"]["database"]["ms"],
    }
    body = response.get_data(as_text=True)
    for leak in ("OperationalError", "psycopg", "127.0.0.1", "hunter2", "Traceback"):
        assert leak not in body


# --- The scheduler's heartbeat --------------------------------------------------------------------


def _beat(app):
    from app.scheduler import Job, Scheduler

    app.config.setdefault("NEVER_S", 3600)
    Scheduler(app, (Job("never", "NEVER_S", lambda: None),)).tick(time.monotonic())


def test_readyz_waits_for_a_scheduler(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_STALE_AFTER_S", 15.0)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["scheduler"] == {
        "ok": False,
        "error": "no heartbeat",
        "ms": response.json["checks"]["scheduler"]["ms"],
    }
    _beat(app)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["scheduler"]["ok"] is True
    assert response.json["checks"]["scheduler"]["age_s"] < 2


def test_readyz_with_a_stale_heartbeat(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_STALE_AFTER_S", 0.5)
    _beat(app)
    assert client.get("/readyz").status_code == 200
    time.sleep(0.7)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["scheduler"]["ok"] is False


def test_the_scheduler_is_not_checked_when_told_so(app, client):
    assert app.config["SCHEDULER_STALE_AFTER_S"] == 0  # the test suite's default: none running
    assert client.get("/readyz").json["checks"]["scheduler"]["checked"] is False


def test_killing_the_scheduler_turns_readyz_503_within_two_heartbeats(app, client, monkeypatch, servers, test_database):
    """A real `python -m app.scheduler` beating every second; /readyz goes stale after two beats
    and a 0.5 s margin. SIGKILL it (no goodbye): 503 within that time of the last beat."""
    heartbeat, stale_after = 1.0, 2.5
    monkeypatch.setitem(app.config, "SCHEDULER_HEARTBEAT_S", heartbeat)
    monkeypatch.setitem(app.config, "SCHEDULER_STALE_AFTER_S", stale_after)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": test_database,
        "REDIS_URL": servers.redis_url,
        "REDIS_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"],
        "DRAMATIQ_NAMESPACE": app.config["DRAMATIQ_NAMESPACE"],
        "SCHEDULER_HEARTBEAT_S": str(heartbeat),
        "SCHEDULER_STALE_AFTER_S": str(stale_after),
        "MEDIA_SWEEP_INTERVAL_S": "0",
    }
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "app.scheduler"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 90
        while client.get("/readyz").status_code != 200:
            assert scheduler.poll() is None and time.monotonic() < deadline, scheduler.stderr.read()
            time.sleep(0.2)
        for _ in range(10):  # it keeps beating: ready all along
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.json
            time.sleep(0.3)
        scheduler.kill()
        killed = time.monotonic()
        while client.get("/readyz").status_code == 200:
            time.sleep(0.05)
        noticed = time.monotonic() - killed
    finally:
        scheduler.kill()
        scheduler.wait(10)
        scheduler.stderr.close()
    print(f"/readyz turned 503 {noticed:.2f} s after the scheduler was killed")
    assert noticed <= stale_after + 0.5, noticed
