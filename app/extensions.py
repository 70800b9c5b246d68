"""Unbound extension objects; `create_app` binds them. Nothing here imports the app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so Alembic revisions can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class RedisClient:
    """A `redis.Redis` bound per app from `REDIS_URL` (tcp or unix socket URL)."""

    def init_app(self, app) -> None:
        import redis

        url = app.config["REDIS_URL"]
        # Short timeouts: a Redis outage or stall costs a request about a second, then the
        # product's "temporarily unavailable" page (app/errors.py), not a hang.
        app.extensions["redis"] = (
            redis.Redis.from_url(
                url,
                socket_connect_timeout=app.config["REDIS_CONNECT_TIMEOUT_S"],
                socket_timeout=app.config["REDIS_SOCKET_TIMEOUT_S"],
                decode_responses=True,
            )
            if url
            else None
        )

    @staticmethod
    def key(name: str) -> str:
        """Every key the app writes carries `REDIS_KEY_PREFIX`, so several apps (or test
        sessions) can share one Redis database without touching each other's keys."""
        from flask import current_app

        return current_app.config["REDIS_KEY_PREFIX"] + name

    @property
    def client(self):
        from flask import current_app

        client = current_app.extensions.get("redis")
        if client is None:
            raise RuntimeError("REDIS_URL is not configured")
        return client


redis_store = RedisClient()
