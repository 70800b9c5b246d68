"""Observability: request ids, JSON log lines with their context (request, user, actor and the
id it works on), /metrics behind its token with every gauge, Sentry when configured."""

import io
import json
import logging
import re
import sys
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dramatiq
import pytest
from flask_login import login_user

from app.extensions import db
from app.models import CallbackEvent, MediaStatus, Publication, PublicationStatus as P, Rendition, StorageBackend, User
from app.models.base import utcnow
from app.observability import ContextFilter, JsonFormatter, start_request
from app.scheduler import Job, Scheduler
from app.security import public
from app.tasks import actor
from tests.conftest import make_test_app
from tests.objects_support import make_asset, make_objects, seed_campaign

TOKEN = "metrics-token-for-the-tests-0123456789"


class _Capture(logging.StreamHandler):
    """Not a bare StreamHandler: an app built during the test leaves it as it is."""


@pytest.fixture
def log_lines():
    """The JSON lines the root logger writes while the test runs (the same formatter and filter
    as the app's handler)."""
    stream = io.StringIO()
    handler = _Capture(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# --- Request ids -------------------------------------------------------------------------------


def test_a_request_id_is_made_and_echoed(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["X-Request-ID"] != made


@pytest.mark.parametrize(
    "offered,kept",
    [
        ("8f14e45fceea167a5a36dedd4bea2543", True),  # nginx's $request_id
        ("0c1f6b9e-2f4a-4c59-9a43-1c5a3b1f2e7d", True),  # a UUID
        ("short", False),
        ("has space inside it", False),
        ("<script>alert(1)</script>", False),
        ("x" * 200, False),
    ],
)
def test_an_offered_request_id_is_kept_only_when_well_formed(client, offered, kept):
    echoed = client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert (echoed == offered) is kept
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}", echoed)


def test_a_refused_route_still_carries_its_request_id(client):
    response = client.get("/media/", headers={"X-Request-ID": "abcdefgh12345678"})
    assert response.status_code in (302, 303) and response.headers["X-Request-ID"] == "abcdefgh12345678"


# --- Log lines ---------------------------------------------------------------------------------


def test_a_log_line_in_a_request_names_the_request_and_the_user(app, make_user, log_lines):
    user_id, _ = make_user("editor")
    with app.test_request_context("/media/", headers={"X-Request-ID": "req-0123456789"}):
        start_request()
        login_user(db.session.get(User, user_id))
        logging.getLogger("app.media").info("library opened: %s assets", 3)
    [line] = [entry for entry in log_lines() if entry["logger"] == "app.media"]
    assert line["message"] == "library opened: 3 assets" and line["level"] == "INFO"
    assert line["request_id"] == "req-0123456789" and line["user_id"] == user_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["timestamp"])


def test_an_exception_goes_into_the_line(log_lines):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("app.test").exception("it failed")
    [line] = [entry for entry in log_lines() if entry["logger"] == "app.test"]
    assert line["level"] == "ERROR" and "ValueError: broken" in line["exception"]


def test_lines_go_to_the_current_stderr(app, monkeypatch):
    """A runner (pytest, Dramatiq's worker) may swap sys.stderr after the app was built."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.getLogger("app.test").warning("to the stderr of now")
    assert "to the stderr of now" in stream.getvalue()


touched = []
touched_event = threading.Event()


@actor(max_retries=0, queue_name="observability-test")
def touch_asset(asset_id: int, note: str) -> None:
    """Test actor: logs one line; the message context adds what it works on."""
    logging.getLogger("app.media").info("touching %s", note)
    touched.append(asset_id)
    touched_event.set()


@actor(max_retries=0, queue_name="observability-test")
def always_fails() -> None:
    raise RuntimeError("permanent failure")


def test_actor_lines_name_the_actor_the_subject_and_the_request_that_sent_it(servers, test_database, log_lines):
    app = make_test_app(servers, test_database, DRAMATIQ_NAMESPACE=f"obs-{uuid.uuid4().hex[:8]}")
    with app.test_request_context("/media/upload", headers={"X-Request-ID": "upload-request-42"}):
        start_request()
        touch_asset.send(4242, "thumbnails")
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1)
    worker.start()
    try:
        assert touched_event.wait(15), "the worker did not process the message"
        time.sleep(0.2)  # the middleware's closing line
    finally:
        worker.stop()
    lines = [entry for entry in log_lines() if entry.get("actor") == "touch_asset"]
    own, done = lines[0], lines[-1]
    assert own["message"] == "touching thumbnails" and own["asset_id"] == 4242
    assert own["request_id"] == "upload-request-42" and own["message_id"]
    assert done["logger"] == "app.tasks" and re.fullmatch(r"touch_asset done in [\d.]+ ms", done["message"])
    assert done["asset_id"] == 4242 and done["message_id"] == own["message_id"]


# --- /metrics ----------------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401


def test_the_latency_histogram_is_made_once_by_concurrent_first_requests():
    """A gunicorn worker's first requests arrive on several threads: one histogram, no error
    (two made at once used to collide in the registry: a 500 on the first /healthz)."""
    from prometheus_client import REGISTRY

    from app import metrics

    original = metrics.request_latency()
    REGISTRY.unregister(original)
    metrics._request_latency = None
    barrier, made, failed = threading.Barrier(32), [], []

    def first_request():
        barrier.wait()
        try:
            made.append(metrics.request_latency())
        except Exception as exc:  # what the race raised
            failed.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(32)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as a loaded worker's would
    try:
        [t.start() for t in threads]
        [t.join(10) for t in threads]
    finally:
        sys.setswitchinterval(interval)
        for histogram in {id(h): h for h in made}.values():  # the session's own one back
            try:
                REGISTRY.unregister(histogram)
            except KeyError:  # one of those the race made and could not register
                pass
        REGISTRY.register(original)
        metrics._request_latency = original
    assert failed == [] and len(made) == 32 and len({id(h) for h in made}) == 1


def _scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    values = {}
    for line in response.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


@pytest.fixture
def troubled_installation(app):
    """A publication due for 2 minutes, one unknown, a callback pending for a minute and one
    set aside, an asset processing for 5 minutes, a rendition pending for 3, a message
    dead-lettered."""
    with app.app_context():
        seed = seed_campaign(media=0)
        [object_id] = make_objects(seed.campaign_id, [], [], 1)
        scenarios = list(seed.scenarios.values())
        now = utcnow()
        for n, (status, due) in enumerate(
            ((P.PENDING, now - timedelta(minutes=2)), (P.PENDING, now + timedelta(hours=1)), (P.UNKNOWN, None))
        ):
            db.session.add(
                Publication(
                    object_id=object_id,
                    campaign_scenario_id=scenarios[n],
                    idempotency_key=uuid.uuid4().hex,
                    fingerprint="sha256:x",
                    status=status,
                    next_attempt_at=due,
                )
            )
        db.session.add_all(
            [
                CallbackEvent(
                    webhook_id=uuid.uuid4().hex,
                    outcome="pending",
                    raw_body="{}",
                    received_at=now - timedelta(minutes=1),
                    requeue_at=now,
                ),
                CallbackEvent(
                    webhook_id=uuid.uuid4().hex,
                    outcome="could_not_apply",
                    raw_body="{}",
                    received_at=now,
                    applied_at=now,
                ),
            ]
        )
        asset = make_asset("En cours", status=MediaStatus.PROCESSING)
        asset.updated_at = now - timedelta(minutes=5)
        db.session.add(
            Rendition(
                asset_id=asset.id,
                asset_version=1,
                profile="instagram-test",
                storage_backend=StorageBackend.LOCAL,
                created_at=now - timedelta(minutes=3),
            )
        )
        db.session.commit()
        always_fails.send()
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1, queues={"observability-test"})
    worker.start()
    try:
        broker = app.extensions["dramatiq"]
        dead = f"{broker.namespace}:observability-test.XQ"
        deadline = time.monotonic() + 15
        while not broker.client.zcard(dead) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    yield
    broker.client.delete(dead, dead + ".msgs")


def test_metrics_show_every_gauge(app, client, monkeypatch, troubled_installation):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "SLOW_S", 3600)
    Scheduler(app, (Job("never", "SLOW_S", lambda: None),)).tick(time.monotonic())  # a heartbeat
    client.get("/healthz")
    values = _scrape(client)
    assert 115 < values["cms_outbox_lag_seconds"] < 300
    assert values["cms_outbox_due_publications"] == 1
    assert values["cms_publications_unknown"] == 1
    assert values["cms_callbacks_pending"] == 1
    assert 55 < values["cms_callbacks_pending_oldest_seconds"] < 300
    assert values["cms_callbacks_set_aside"] == 1
    assert values["cms_media_processing_assets"] == 1
    assert 295 < values["cms_media_processing_oldest_seconds"] < 600
    assert values["cms_media_store_backlog"] == 0
    assert values["cms_renditions_pending"] == 1
    assert 175 < values["cms_renditions_pending_oldest_seconds"] < 500
    assert values['cms_dead_letter_messages{queue="observability-test"}'] == 1
    assert values['cms_queue_messages{queue="publish"}'] == 0
    assert 'cms_queue_delayed_messages{queue="default"}' in values
    assert 0 <= values["cms_scheduler_heartbeat_age_seconds"] < 5
    assert all(values[f'cms_metrics_source_up{{source="{s}"}}'] == 1 for s in ("database", "broker", "scheduler"))
    healthz = 'cms_http_request_duration_seconds_count{endpoint="health.healthz",method="GET",status="2xx"}'
    assert values[healthz] >= 1


def test_without_a_scheduler_the_heartbeat_age_is_infinite(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert _scrape(client)["cms_scheduler_heartbeat_age_seconds"] == float("inf")


def test_a_source_down_does_not_fail_the_scrape(servers, test_database):
    app = make_test_app(servers, test_database, REDIS_URL="redis://127.0.0.1:1/0", METRICS_TOKEN=TOKEN)
    values = _scrape(app.test_client())
    assert values['cms_metrics_source_up{source="database"}'] == 1
    assert values['cms_metrics_source_up{source="broker"}'] == 0
    assert values['cms_metrics_source_up{source="scheduler"}'] == 0
    assert "cms_outbox_lag_seconds" in values


# --- Sentry ------------------------------------------------------------------------------------


class _Envelopes(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            import gzip

            body = gzip.decompress(body)
        elif encoding == "br":  # the SDK's choice when Brotli is installed
            import brotli

            body = brotli.decompress(body)
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_errors_reach_sentry_when_a_dsn_is_set(servers, test_database):
    import sentry_sdk

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/1"
        app = make_test_app(servers, test_database, SENTRY_DSN=dsn, TESTING=False)

        @public
        def broken():
            raise RuntimeError("sentry-test-boom")

        app.add_url_rule("/broken", "broken", broken)
        assert app.test_client().get("/broken").status_code == 500
        sentry_sdk.flush(5)
        bodies = b"".join(body for path, body in _Envelopes.received if path == "/api/1/envelope/")
        assert b"sentry-test-boom" in bodies and b'"environment":"test"' in bodies
    finally:
        sentry_sdk.init()  # no DSN: nothing more is sent for the rest of the session
        server.shutdown()
