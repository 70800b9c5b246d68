"""The Make emulator served on loopback for the CMS's tests, and the settings that point at it."""

from __future__ import annotations

import time
from contextlib import contextmanager

import httpx

from sandbox.make import Knobs, MakeEmulatorConfig, create_app, emulator_of
from sandbox.server import BackgroundServer

TOKEN = "00000000-0000-4000-8000-0000000000c1"
NO_SCOPE_TOKEN = "00000000-0000-4000-8000-0000000000c2"
SECRET = "c0ffee" * 11  # hex, 33 bytes, like MAKE_CALLBACK_SECRET
TEAM, ORGANIZATION = 215, 11
# The emulator's seeded connections, one per platform.
CONNECTIONS = {"instagram": 77, "facebook": 78, "linkedin": 79, "youtube": 80, "x": 81, "tiktok": 82}


class ServedEmulator:
    def __init__(self, **config):
        settings = dict(
            tokens=(TOKEN,), scoped_tokens={NO_SCOPE_TOKEN: ()}, workers=4, knobs=Knobs(break_interval_scale=0.01)
        )
        settings.update(config)
        self.app = create_app(MakeEmulatorConfig(**settings))
        self.server = BackgroundServer(self.app).start()
        self.url = self.server.url
        self._http = httpx.Client(base_url=self.url, trust_env=False)

    def settings(self) -> dict:
        """The CMS's MAKE_* settings for this emulator."""
        return {
            "MAKE_BASE_URL": f"{self.url}/api/v2",
            "MAKE_HOOK_BASE_URL": f"{self.url}/hook",
            "MAKE_API_TOKEN": TOKEN,
            "MAKE_TEAM_ID": str(TEAM),
            "MAKE_ORGANIZATION_ID": str(ORGANIZATION),
            "MAKE_DATASTORE_ID": "1",
            "MAKE_CALLBACK_SECRET": SECRET,
            "MAKE_ENV": "test",
        }

    def knobs(self, **changes) -> dict:
        response = self._http.post("/_emulator/knobs", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def inspect(self, what: str) -> dict:
        return self._http.get(f"/_emulator/{what}").json()

    def api(self, path: str) -> dict:
        """A raw API read, to check what the CMS did without going through its client."""
        response = self._http.get(f"/api/v2{path}", headers={"Authorization": f"Token {TOKEN}"})
        assert response.status_code == 200, response.text
        return response.json()

    def scenarios(self) -> list[dict]:
        return self.api(f"/scenarios?teamId={TEAM}&pg[limit]=1000")["scenarios"]

    def hooks(self) -> list[dict]:
        return self.api(f"/hooks?teamId={TEAM}&pg[limit]=1000")["hooks"]

    def reset(self) -> None:
        self._http.post("/_emulator/reset").raise_for_status()

    def stop(self) -> None:
        self._http.close()
        self.server.stop()
        emulator_of(self.app).shutdown()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s"
        time.sleep(interval)
    return value


class RecordingProxy:
    """A loopback HTTP proxy in front of the emulator that records each API call as
    "METHOD /path", to check which calls the CMS made and in which order."""

    def __init__(self, target: str):
        import threading

        from werkzeug.serving import make_server

        self.calls: list[str] = []
        self._target = httpx.Client(base_url=target, trust_env=False)
        self._server = make_server("127.0.0.1", 0, self._forward, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/v2"

    def _forward(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.calls.append(f"{request.method} {request.path}")
        answer = self._target.request(
            request.method,
            request.full_path if request.query_string else request.path,
            content=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        )
        return Response(
            answer.content,
            answer.status_code,
            [
                (k, v)
                for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")
            ],
        )(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._target.close()


@contextmanager
def emulated_app(servers, settings: dict, *, worker_threads: int = 0, serve: bool = False, **config):
    """An app on a database of its own, pointed at a Make emulator by `settings`; `serve` also
    serves it on loopback (Make calls it back at PUBLIC_BASE_URL), `worker_threads` runs a
    Dramatiq worker on its broker. Its Redis keys and queues are its own (apps of other modules
    run in the same session). Everything is torn down on exit."""
    import uuid

    import dramatiq

    from app.extensions import db
    from sandbox.server import BackgroundServer
    from tests.conftest import SESSION_TAG, _clear_redis, create_migrated_database, drop_database, make_test_app

    url = create_migrated_database(servers)
    own = f"cms-test-{SESSION_TAG}-{uuid.uuid4().hex[:6]}"  # Redis keys and queues of its own
    app = make_test_app(
        servers, url, **{"REDIS_KEY_PREFIX": f"{own}:", "DRAMATIQ_NAMESPACE": own, **settings, **config}
    )
    web = BackgroundServer(app).start() if serve else None
    if web:
        app.config["PUBLIC_BASE_URL"] = web.url
    broker = app.extensions["dramatiq"]
    broker.flush_all()  # nothing left over from other tests' apps sharing the namespace
    worker = dramatiq.Worker(broker, worker_threads=worker_threads) if worker_threads else None
    if worker:
        worker.start()
    try:
        yield app
    finally:
        if worker:
            worker.stop()
        if web:
            web.stop()
        broker.flush_all()
        _clear_redis(app.config["REDIS_URL"], app.config["REDIS_KEY_PREFIX"])
        with app.app_context():
            db.engine.dispose()
        drop_database(servers.database_url, url)


def signed_in(app, role, language: str = "en"):
    """A test client signed in as a new user with `role`, its browser asking for `language`."""
    import uuid

    from app.auth import service as users
    from app.extensions import db
    from tests.conftest import PASSWORD, csrf_token

    with app.app_context():
        users.create_user(email := f"{role}-{uuid.uuid4().hex[:6]}@example.org", "Tester", role, PASSWORD)
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    return client
