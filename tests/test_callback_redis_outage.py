"""Redis unavailable: the callback endpoint fails open on its rate limit only (it still verifies
and records), and closed on everything else (a bad signature is still 401, a dry run that cannot
be checked is 503). A real Redis server is started for these tests, then stopped or paused."""

import socket
import time

import pytest
import redis

from app.embedded import EmbeddedRedis
from app.extensions import redis_store
from app.models import PublicationStatus
from tests.test_callbacks import callback, publishing, state  # noqa: F401
from tests.test_callback_dry_run import confirm, scenario, verified_at  # noqa: F401


def point_redis_at(app, monkeypatch, url: str) -> None:
    """The app's Redis clients (the main one and the callback endpoint's) rebuilt on `url`."""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.extensions, "redis", app.extensions["redis"])  # restored afterwards
    redis_store.init_app(app)
    monkeypatch.delitem(app.extensions, "redis_callbacks", raising=False)
    monkeypatch.delitem(app.extensions, "callbacks_redis_down", raising=False)


@pytest.fixture
def own_redis(app, tmp_path, monkeypatch):
    """The app pointed at a Redis server of its own, which the test can stop or pause."""
    server = EmbeddedRedis(tmp_path / "redis", persist=False).start()
    point_redis_at(app, monkeypatch, server.url)
    yield server
    server.stop()
    app.extensions.pop("redis_callbacks", None)
    app.extensions.pop("callbacks_redis_down", None)


def pause(server, ms: int) -> None:
    redis.Redis.from_url(server.url).execute_command("CLIENT", "PAUSE", ms, "ALL")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def timed_callback(client, pub, **kwargs):
    started = time.monotonic()
    response = callback(client, pub, **kwargs)
    return response, time.monotonic() - started


def test_with_redis_up_the_limit_applies(app, client, publishing, own_redis, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_RATE_LIMIT_PER_MINUTE", 1)
    pub = publishing["publications"][0]
    assert [callback(client, pub, attempt=n).status_code for n in range(2)] == [200, 429]
    with app.app_context():
        assert redis.Redis.from_url(own_redis.url).exists(redis_store.key("hooks:rate:127.0.0.1"))


@pytest.mark.parametrize("outage", ["stopped", "closed_tcp_port"])
def test_redis_down_the_callback_is_still_verified_and_recorded(
    app, client, publishing, own_redis, outage, monkeypatch, caplog
):
    if outage == "stopped":
        own_redis.stop()
    else:
        point_redis_at(app, monkeypatch, f"redis://127.0.0.1:{closed_port()}/0")
    first, second = publishing["publications"]
    response, took = timed_callback(client, first)
    assert response.status_code == 200 and response.json == {"outcome": "accepted"}
    assert took < 2
    assert state(app, first)[0] is PublicationStatus.PUBLISHED
    assert "not rate limited" in caplog.text
    forged = callback(client, second, secret="not-the-secret")
    assert forged.status_code == 401  # fail closed on everything but the rate limit
    assert state(app, second)[0] is PublicationStatus.SENT


def test_a_stalled_redis_costs_one_short_timeout_then_none(app, client, publishing, own_redis):
    first, second = publishing["publications"]
    pause(own_redis, 4000)
    response, took = timed_callback(client, first, apply=False)
    assert response.status_code == 200 and response.json == {"outcome": "accepted"}
    assert app.config["CALLBACK_REDIS_TIMEOUT_S"] <= took < 1.5  # the short timeout, not the app's 5 s
    response, took = timed_callback(client, second, apply=False)
    assert response.status_code == 200 and took < app.config["CALLBACK_REDIS_TIMEOUT_S"]  # cooling down
    assert state(app, first)[3] == 2


def test_the_limit_comes_back_with_redis(app, client, publishing, own_redis, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_RATE_LIMIT_PER_MINUTE", 1)
    pub = publishing["publications"][0]
    pause(own_redis, 600)
    assert callback(client, pub, attempt=1, apply=False).status_code == 200  # fail open
    app.extensions["callbacks_redis_down"]["until"] = 0  # the cool-down is over
    time.sleep(0.7)  # and so is the pause
    codes = [callback(client, pub, attempt=n, apply=False).status_code for n in (2, 3)]
    assert codes == [200, 429]


def test_a_dry_run_cannot_be_checked_without_redis(app, client, scenario, own_redis):
    from app.hooks import dry_run

    with app.app_context():
        redis.Redis.from_url(own_redis.url).set(dry_run.key(scenario["id"]), scenario["key"], ex=60)
    own_redis.stop()
    response = confirm(client, scenario["id"], scenario["key"])
    assert response.status_code == 503 and response.json == {"outcome": "unavailable"}
    assert response.headers["Retry-After"] == "60"
    assert verified_at(app, scenario["id"]) is None
