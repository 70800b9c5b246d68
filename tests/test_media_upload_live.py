"""Uploads over a real socket to the app under gunicorn: a 300 MiB upload streams with bounded
memory in the web process, a limit stops a body mid-way, an aborted upload leaves nothing, and
a body that stops arriving is ended after UPLOAD_READ_TIMEOUT_S, under gunicorn's threaded
worker as under the development server (Werkzeug's, in this process)."""

import hashlib
import os
import re
import socket
import time
import uuid

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, Role
from sandbox.server import BackgroundServer
from tests.conftest import PASSWORD, SESSION_TAG, create_migrated_database, drop_database, make_test_app
from tests.media_live import MiB, WebProcess, signed_in, upload_stream, video_body
from tests.media_support import SVG, noisy_jpeg, stored_files, video

IMAGE_LIMIT = 2 * MiB


@pytest.fixture(scope="module")
def live(servers, tmp_path_factory):
    url = create_migrated_database(servers)
    root = tmp_path_factory.mktemp("live-media")
    namespace = f"cms-test-{SESSION_TAG}:live"
    app = make_test_app(servers, url, MEDIA_ROOT=str(root), DRAMATIQ_NAMESPACE=namespace)
    email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        accounts.create_user(email, "Live editor", Role.EDITOR, PASSWORD)
        db.session.commit()
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": "live-secret",
        "DATABASE_URL": url,
        "REDIS_URL": servers.redis_url,
        "MEDIA_ROOT": str(root),
        "DRAMATIQ_NAMESPACE": namespace,
        "REDIS_KEY_PREFIX": f"cms-test-{SESSION_TAG}:",
        "MEDIA_MAX_IMAGE_BYTES": str(IMAGE_LIMIT),
    }
    try:
        with WebProcess(env) as web:
            client, token = signed_in(web.url, email, PASSWORD)
            yield app, web, client, token, root
            client.close()
    finally:
        app.extensions["dramatiq"].flush_all()
        with app.app_context():
            db.engine.dispose()
        drop_database(servers.database_url, url)


def _rows(app):
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))
        db.session.remove()
        return count


def test_a_300_mib_upload_streams_with_bounded_memory(live):
    app, web, client, token, root = live
    warm = upload_stream(client, token, "warm-up.mp4", MiB, video_body(MiB, os.urandom(16)))
    assert warm.status_code == 200, warm.text
    web.reset_peak()  # the sign-in's argon2id hash alone takes 64 MiB: measure the upload only
    before = web.peak_rss()
    total, digest = 300 * MiB, hashlib.sha256()
    started = time.monotonic()
    response = upload_stream(client, token, "big.mp4", total, video_body(total, os.urandom(16), digest))
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    growth = web.peak_rss() - before
    print(
        f"\n300 MiB upload in {elapsed:.1f} s; web worker peak RSS {web.peak_rss() / MiB:.0f} MiB "
        f"(+{growth / MiB:.1f} MiB during the upload)"
    )
    assert growth < 32 * MiB, f"the web process grew by {growth / MiB:.0f} MiB"
    with app.app_context():
        asset = db.session.get(MediaAsset, response.json()["id"])
        assert asset.size_bytes == total and asset.sha256 == digest.hexdigest() and asset.mime == "video/mp4"
        stored = root / "objects" / asset.storage_item_id / "1"
        assert stored.stat().st_size == total
        db.session.remove()


def test_a_refusal_is_answered_over_the_socket(live):
    app, _, client, token, root = live
    before = _rows(app)
    response = client.post(
        "/media/upload",
        content=SVG,
        headers={
            "Content-Type": "application/octet-stream",
            "X-Filename": "logo.svg",
            "X-CSRFToken": token,
            "Accept": "application/json",
            "Accept-Language": "en",
        },
    )
    assert response.status_code == 415
    assert response.json() == {"error": "SVG and HTML files are refused: they can carry scripts."}
    assert _rows(app) == before and stored_files(root / "tmp") == []


def _raw_upload(client, token, name, body, declared=None):
    """Send the request by hand; without `declared`, the body goes chunked (no length known)."""
    sock = socket.create_connection((client.base_url.host, client.base_url.port))
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    length = f"Content-Length: {declared}" if declared else "Transfer-Encoding: chunked"
    sock.sendall(
        (
            f"POST /media/upload HTTP/1.1\r\nHost: {client.base_url.host}\r\nCookie: {cookies}\r\n"
            f"Content-Type: application/octet-stream\r\n{length}\r\nX-Filename: {name}\r\n"
            f"X-CSRFToken: {token}\r\nAccept: application/json\r\nAccept-Language: en\r\n\r\n"
        ).encode()
    )
    if declared:
        sock.sendall(body)
    else:  # the final zero-length chunk is never sent: the server must answer before the end
        for i in range(0, len(body), 64 * 1024):
            piece = body[i : i + 64 * 1024]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
    return sock


def _read_response(sock) -> str:
    """The whole response (headers and a Content-Length body), however the packets fall."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
        re.search(rb"Content-Length: (\d+)", data, re.I).group(1)
    ):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data.decode("latin-1")


def _wait_for_no_temporary_file(root, timeout=10):
    deadline = time.monotonic() + timeout
    while stored_files(root / "tmp") and time.monotonic() < deadline:
        time.sleep(0.05)
    return stored_files(root / "tmp")


def test_the_image_limit_stops_a_body_of_unknown_length_midway(live):
    app, _, client, token, root = live
    before = _rows(app)
    sock = _raw_upload(client, token, "huge.jpg", noisy_jpeg((64, 64)) + bytes(3 * MiB))  # no length announced
    answer = _read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert answer.endswith('{"error":"JPEG files are limited to 2\\u00a0MB."}\n')
    assert _wait_for_no_temporary_file(root) == [] and _rows(app) == before


def test_an_aborted_upload_leaves_nothing(live):
    app, _, client, token, root = live
    before = _rows(app)
    sock = _raw_upload(client, token, "cut.mp4", next(video_body(MiB, os.urandom(16))) + bytes(3 * MiB), 20 * MiB)
    deadline = time.monotonic() + 10
    while not stored_files(root / "tmp") and time.monotonic() < deadline:  # the body is being received
        time.sleep(0.02)
    with app.app_context():  # no database connection is held while a body streams in
        held = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        )
        db.session.remove()
    sock.close()  # the browser's cancel button does this
    assert held == 0
    assert _wait_for_no_temporary_file(root) == [] and _rows(app) == before


READ_TIMEOUT = 2


@pytest.fixture(params=["gunicorn", "werkzeug"])
def stalling_server(request, live, servers):
    """The same app and database behind a server whose uploads time out after 2 s."""
    app, web, _, _, root = live
    if request.param == "gunicorn":
        server = WebProcess({**web.env, "UPLOAD_READ_TIMEOUT_S": str(READ_TIMEOUT)}, threads=2)
    else:  # the development server of `make run`, here in a thread of this process
        app.config["UPLOAD_READ_TIMEOUT_S"] = READ_TIMEOUT
        server = BackgroundServer(app)
    with server:
        client, token = signed_in(server.url, live_email(app), PASSWORD)
        yield app, client, token, root
        client.close()


def live_email(app) -> str:
    from app.models import User

    with app.app_context():
        email = db.session.scalar(sa.select(User.email).where(User.name == "Live editor"))
        db.session.remove()
        return email


def _until_closed(sock, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it."""
    started, data = time.monotonic(), b""
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    finally:
        sock.close()
    return data, time.monotonic() - started


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_stalled_body_is_ended_after_the_read_timeout(stalling_server, framing):
    """A client that sends the headers and part of the body, then nothing (1,000 bytes short
    of its Content-Length, or a chunked body with no last chunk), holds no thread for long."""
    app, client, token, root = stalling_server
    before = _rows(app)
    clip = video(frames=20)
    sock = _raw_upload(client, token, "stalled.mp4", clip, len(clip) + 1000 if framing == "content-length" else None)
    answer, elapsed = _until_closed(sock, READ_TIMEOUT + 8)
    text = answer.decode("latin-1")
    print(f"\n{framing}: answered and closed {elapsed:.2f} s after the last byte")
    assert text.startswith("HTTP/1.1 408"), text[:300]
    assert text.endswith('{"error":"No data arrived for 2 seconds: the upload was stopped. Try again."}\n')
    assert READ_TIMEOUT - 0.5 <= elapsed <= READ_TIMEOUT + 3  # then the connection is closed, not kept
    assert _wait_for_no_temporary_file(root) == [] and _rows(app) == before
