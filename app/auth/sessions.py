"""Server-side session records in Redis, so the server can end any session.

The signed cookie only carries a random session id (`sid`). A request is authenticated when
`<prefix>auth:session:<sid>` exists (idle timeout = its TTL), is younger than the absolute timeout,
and carries the user's current `session_epoch` (bumped on deactivation and role change).
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, session
from flask_login import login_user, logout_user

from app.extensions import db, redis_store
from app.models import User


def _key(sid: str) -> str:
    return redis_store.key(f"auth:session:{sid}")


def start(user: User) -> None:
    """Log `user` in on a brand-new session (no fixation: the old cookie data is dropped)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    redis_store.client.hset(
        _key(sid),
        mapping={
            "uid": user.id,
            "epoch": user.session_epoch,
            "created": int(time.time()),
        },
    )
    redis_store.client.expire(_key(sid), current_app.config["SESSION_IDLE_TIMEOUT"])
    session["sid"] = sid
    session.permanent = True
    login_user(user)


def end() -> None:
    sid = session.get("sid")
    if sid:
        redis_store.client.delete(_key(sid))
    logout_user()
    session.clear()


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the cookie's user id must match a live server record."""
    sid = session.get("sid")
    if not sid or not user_id.isdigit():
        return None
    key = _key(sid)
    record = redis_store.client.hgetall(key)
    if not record or record.get("uid") != user_id:
        return None
    if time.time() - int(record["created"]) > current_app.config["SESSION_ABSOLUTE_TIMEOUT"]:
        redis_store.client.delete(key)
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_epoch) != record.get("epoch"):
        redis_store.client.delete(key)
        return None
    redis_store.client.expire(key, current_app.config["SESSION_IDLE_TIMEOUT"])
    return user


def revoke_all(user: User) -> None:
    """Every existing session of `user` is refused from the next request on."""
    user.session_epoch = (user.session_epoch or 0) + 1
