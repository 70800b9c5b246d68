"""Dramatiq wiring: actors are declared lazily and bound to the broker `create_app` builds.

Declaring actors against a global broker at import time would silently create Dramatiq's
default RabbitMQ broker; instead `@actor` records the function, and `init_broker(app)` binds
every recorded actor to the Redis broker named by the app's configuration. Messages are sent
only after the database transaction commits (`send_after_commit`), as are the quick local
changes that must not outrun it (`call_after_commit`).
"""
from __future__ import annotations

import dramatiq
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.orm import Session

_declared: list["LazyActor"] = []


class LazyActor:
    def __init__(self, fn, options):
        self.fn = fn
        self.options = options
        self.actor_name = options.get("actor_name", fn.__name__)
        self._bound: dramatiq.Actor | None = None

    def bind(self, broker) -> dramatiq.Actor:
        self._bound = dramatiq.actor(self.fn, broker=broker, **self.options)
        return self._bound

    @property
    def bound(self) -> dramatiq.Actor:
        """The actor on the current app's broker (several apps may live in one process, e.g.
        in tests); outside an app context, the one bound last."""
        from flask import current_app, has_app_context

        if has_app_context():
            bound = current_app.extensions.get("dramatiq_actors", {}).get(self.actor_name)
            if bound is not None:
                return bound
        if self._bound is None:
            raise RuntimeError(f"actor {self.actor_name} used before init_broker()")
        return self._bound

    def send(self, *args, **kwargs):
        return self.bound.send(*args, **kwargs)

    def send_with_options(self, **options):
        return self.bound.send_with_options(**options)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


def actor(fn=None, **options):
    def decorator(f):
        lazy = LazyActor(f, options)
        _declared.append(lazy)
        return lazy

    return decorator(fn) if fn is not None else decorator


class AppContextMiddleware(dramatiq.Middleware):
    """Each message runs inside an app context; its database session is removed afterwards."""

    def __init__(self, app):
        self.app = app
        self._contexts = {}

    def before_process_message(self, broker, message):
        ctx = self.app.app_context()
        ctx.push()
        self._contexts[message.message_id] = ctx

    def _pop(self, message):
        ctx = self._contexts.pop(message.message_id, None)
        if ctx is not None:
            from app.extensions import db

            db.session.remove()
            ctx.pop()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._pop(message)

    def after_skip_message(self, broker, message):
        self._pop(message)


def init_broker(app, *, namespace: str = "dramatiq") -> dramatiq.Broker:
    """Build the Redis broker from `REDIS_URL`, make it global, bind the declared actors."""
    from app.tasks import actors  # noqa: F401  (declares the project's actors)

    broker = RedisBroker(url=app.config["REDIS_URL"], namespace=namespace)
    broker.add_middleware(AppContextMiddleware(app))
    dramatiq.set_broker(broker)
    app.extensions["dramatiq_actors"] = {lazy.actor_name: lazy.bind(broker) for lazy in _declared}
    app.extensions["dramatiq"] = broker
    return broker


def send_after_commit(session: Session, lazy_actor: LazyActor, *args, **kwargs) -> None:
    """Queue a message to be sent once `session` commits; a rollback drops it."""
    session.info.setdefault("after_commit_messages", []).append((lazy_actor, args, kwargs))


def call_after_commit(session: Session, fn, *args) -> None:
    """Call `fn(*args)` in this process once `session` commits; a rollback drops it. For quick
    local work that must not happen unless the change is kept, such as removing the files of a
    deleted asset (anything slow or remote goes to an actor through `send_after_commit`)."""
    session.info.setdefault("after_commit_calls", []).append((fn, args))


@sa.event.listens_for(Session, "after_commit")
def _send_pending(session):
    for lazy_actor, args, kwargs in session.info.pop("after_commit_messages", []):
        lazy_actor.send(*args, **kwargs)
    for fn, args in session.info.pop("after_commit_calls", []):
        fn(*args)


@sa.event.listens_for(Session, "after_rollback")
def _drop_pending(session):
    session.info.pop("after_commit_messages", None)
    session.info.pop("after_commit_calls", None)
