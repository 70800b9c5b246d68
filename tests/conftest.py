"""Fixtures on the real stack: PostgreSQL and Redis, never mocks.

Servers: `TEST_DATABASE_URL` / `TEST_REDIS_URL` when set (CI points them at the machine's
servers), otherwise embedded ones whose data lives under `.cache/` (apart from `instance/`).
Each test session migrates a brand-new database once, and every database a test needs as the
migrations leave it is a copy of that one (`create_migrated_database`); each test runs inside a
connection-level transaction that is rolled back at the end (the app's sessions join it through
savepoints).
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.auth import passwords, service as accounts
from app.config import database_url
from app.extensions import db
from app.models import Role

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
PASSWORD = "correct horse battery staple"
# Keys and queues of this test session in a shared Redis (parallel runs don't collide).
SESSION_TAG = uuid.uuid4().hex[:8]
CALLBACK_SECRET = "5f0c3e1a9b7d2e4f6a8c0b1d3e5f7a9c"


@dataclass
class Servers:
    database_url: str  # a server (any database on it); tests create their own databases
    redis_url: str


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, template: str | None = None) -> str:
    """A new, empty database on the server (or a copy of the database named `template`)."""
    url = make_url(server_url)
    name = f"cms_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return url.set(database=name).render_as_string(hide_password=False)


_MIGRATED: dict[str, str] = {}  # server URL -> URL of this session's database the migrations ran on


def create_migrated_database(servers: Servers) -> str:
    """A new database as `flask db upgrade` leaves an empty one: a copy of one database of this
    session that the migrations ran on once (PostgreSQL copies it in a fraction of the time the
    migrations take). The migrations themselves are exercised in tests/test_migrations.py."""
    from flask_migrate import upgrade

    if servers.database_url not in _MIGRATED:
        template = create_database(servers.database_url)
        app = make_test_app(servers, template)
        with app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()  # a database is copied only while nobody is connected to it
        _MIGRATED[servers.database_url] = template
    return create_database(servers.database_url, template=make_url(_MIGRATED[servers.database_url]).database)


def drop_database(server_url: str, database_url_: str) -> None:
    name = make_url(database_url_).database
    with psycopg.connect(_libpq(make_url(server_url)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def servers():
    from app.embedded import EmbeddedPostgres, EmbeddedRedis

    stack = []
    db_url = os.environ.get("TEST_DATABASE_URL")
    if not db_url:
        pg = EmbeddedPostgres(CACHE / "test-postgres").start()
        stack.append(pg)
        db_url = pg.url("postgres")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        embedded_redis = EmbeddedRedis(CACHE / "test-redis", persist=False).start()
        stack.append(embedded_redis)
        redis_url = embedded_redis.url
    running = Servers(database_url(db_url), redis_url)
    yield running
    if template := _MIGRATED.pop(running.database_url, None):
        drop_database(running.database_url, template)
    for service in reversed(stack):
        service.stop()


class BufferedClient(FlaskClient):
    """The test client, reading each response whole and closing it as a WSGI server does (a file
    served by `send_file` is closed then), instead of leaving that to the garbage collector."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


def make_test_app(servers: Servers, database: str, **overrides):
    config = {
        "TESTING": True,
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database,
        "REDIS_URL": servers.redis_url,
        "SESSION_COOKIE_SECURE": False,
        "HSTS_ENABLED": False,
        "WTF_CSRF_SSL_STRICT": False,
        "DRAMATIQ_NAMESPACE": f"cms-test-{SESSION_TAG}",
        "REDIS_KEY_PREFIX": f"cms-test-{SESSION_TAG}:",
        "SERVER_NAME": None,
        "MAKE_CALLBACK_SECRET": CALLBACK_SECRET,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = BufferedClient
    return app


@pytest.fixture(scope="session")
def test_database(servers):
    url = create_migrated_database(servers)
    yield url
    drop_database(servers.database_url, url)


@pytest.fixture(scope="session")
def _app(servers, test_database):
    app = make_test_app(servers, test_database)
    yield app
    with app.app_context():
        db.engine.dispose()  # close the pooled connections before the database is dropped


@pytest.fixture
def app(_app):
    """The app, with every database change of the test rolled back afterwards."""
    from flask_sqlalchemy.session import _app_ctx_id

    with _app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
    )
    try:
        yield _app
    finally:
        with _app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        _clear_redis(_app.config["REDIS_URL"], _app.config["REDIS_KEY_PREFIX"])


def _clear_redis(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token in {path}"
    return match.group(1)


@functools.cache
def password_hash(password: str) -> str:
    """`password`'s argon2id hash with the app's own parameters, made once per test session: each
    hash takes about 0.1 s of both cores (a second on a loaded machine) and hundreds of tests sign
    in a new user. Signing in still verifies the hash for real; the users `make_user` creates with
    one password share its salt, which no test relies on."""
    return passwords.hash_password(password)


@pytest.fixture
def make_user(app):
    def factory(
        role: Role | str = Role.EDITOR, email: str | None = None, password: str = PASSWORD, name: str = "Test User"
    ):
        role = Role(role)
        with app.app_context():
            user = accounts.create_user(email or f"{role.value}-{uuid.uuid4().hex[:6]}@example.org", name, role)
            user.password_hash = password_hash(password)
            db.session.commit()
            return user.id, user.email

    return factory


class AuthActions:
    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user
        self.user_id: int | None = None
        self.email: str | None = None

    def login(self, role: Role | str = Role.EDITOR, email: str | None = None, password: str = PASSWORD):
        if email is None:
            self.user_id, email = self._make_user(role)
        self.email = email
        response = self._client.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_token(self._client)}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self._client.post("/logout", data={"csrf_token": csrf_token(self._client, "/")}, follow_redirects=False)


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user)
