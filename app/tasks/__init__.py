"""Dramatiq wiring: actors are declared lazily and bound to the broker `create_app` builds.

Declaring actors against a global broker at import time would silently create Dramatiq's
default RabbitMQ broker; instead `@actor` records the function, and `init_broker(app)` binds
every recorded actor to the broker `BROKER_URL` names: Redis (`redis://`, the default being
`REDIS_URL`) or RabbitMQ (`amqp://`, `amqps://`; docs/operations.md). Messages are sent only
after the database transaction commits (`send_after_commit`), as are the quick local changes
that must not outrun it (`call_after_commit`). A message that cannot be sent then (the broker
down) is logged, never raised: the change is committed, and the scheduler's recovery job
(app/recovery.py) re-sends the work of rows left waiting.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import dramatiq
import redis
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import q_name, xq_name
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

_declared: list["LazyActor"] = []


class LazyActor:
    def __init__(self, fn, options):
        self.fn = fn
        self.options = options
        self.actor_name = options.get("actor_name", fn.__name__)
        self._bound: dramatiq.Actor | None = None

    @property
    def queue_name(self) -> str:
        return self.options.get("queue_name", "default")

    def bind(self, broker, queue_prefix: str = "") -> dramatiq.Actor:
        options = {**self.options, "queue_name": queue_prefix + self.queue_name}
        self._bound = dramatiq.actor(self.fn, broker=broker, **options)
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


class ActorByName:
    """An actor a service sends without importing the module that declares it: actor modules
    import the services they run, so a service importing its actor back would make a circle
    (docs/architecture.md §1.2). Resolved on the current app's broker when a
    message is sent; `tests/test_import_layers.py` checks that every name is declared."""

    def __init__(self, name: str):
        self.actor_name = name
        _referenced.add(name)

    @property
    def bound(self) -> dramatiq.Actor:
        from flask import current_app

        try:
            return current_app.extensions["dramatiq_actors"][self.actor_name]
        except KeyError:
            raise RuntimeError(f"no actor named {self.actor_name} on this app's broker") from None

    def send(self, *args, **kwargs):
        return self.bound.send(*args, **kwargs)

    def send_with_options(self, **options):
        return self.bound.send_with_options(**options)


_referenced: set[str] = set()


def by_name(name: str) -> ActorByName:
    return ActorByName(name)


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


def broker_url(config) -> str:
    return config.get("BROKER_URL") or config["REDIS_URL"]


def uses_rabbitmq(config) -> bool:
    return urlsplit(broker_url(config)).scheme in ("amqp", "amqps")


# pika waits for ever by default on a RabbitMQ that blocks publishers (memory or disk alarm):
# these bound every wait unless the URL sets them itself (pika's URLParameters names)
RABBITMQ_URL_DEFAULTS = {
    "connection_attempts": "1",
    "socket_timeout": "5",
    "stack_timeout": "10",
    "blocked_connection_timeout": "10",
    "heartbeat": "60",
}


def _rabbitmq_url(url: str) -> str:
    given = parse_qs(urlsplit(url).query)
    missing = "&".join(f"{k}={v}" for k, v in RABBITMQ_URL_DEFAULTS.items() if k not in given)
    if not missing:
        return url
    return url + ("&" if "?" in url else "?") + missing


def _build_broker(app, namespace: str) -> tuple[dramatiq.Broker, str]:
    """The broker and the prefix of its queue names (RabbitMQ has no key namespace: parallel
    test runs on one vhost keep apart by `RABBITMQ_QUEUE_PREFIX`)."""
    config = app.config
    url = broker_url(config)
    if uses_rabbitmq(config):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        logging.getLogger("pika").setLevel(logging.WARNING)  # a line per connection at INFO
        return RabbitmqBroker(url=_rabbitmq_url(url), confirm_delivery=True), config.get("RABBITMQ_QUEUE_PREFIX") or ""
    # Short timeouts: a Redis stall must not hang a request that enqueues after its commit
    client = redis.Redis.from_url(
        url, socket_connect_timeout=config["REDIS_CONNECT_TIMEOUT_S"], socket_timeout=config["REDIS_SOCKET_TIMEOUT_S"]
    )
    return RedisBroker(client=client, namespace=namespace), ""


def init_broker(app, *, namespace: str = "dramatiq") -> dramatiq.Broker:
    """Build the broker `BROKER_URL` names, make it global, bind the declared actors (the
    caller imported `app.tasks.actors`, which declares the project's); on RabbitMQ, declare
    their queues (each with its delay queue `.DQ` and dead-letter queue `.XQ`)."""
    broker, prefix = _build_broker(app, namespace)
    broker.add_middleware(AppContextMiddleware(app))
    dramatiq.set_broker(broker)
    app.extensions["dramatiq_actors"] = {lazy.actor_name: lazy.bind(broker, prefix) for lazy in _declared}
    app.extensions["dramatiq"] = broker
    app.extensions["dramatiq_queue_prefix"] = prefix
    if uses_rabbitmq(app.config):
        declare_queues(broker)
    return broker


def declare_queues(broker) -> bool:
    """Create every declared queue on RabbitMQ now rather than at its first message, so that a
    worker pool started on some queues and producers find them all (and their `.XQ`). The
    connection used is closed (not inherited by a forked process). False, logged, when RabbitMQ
    cannot be reached: the queues are then declared by the first send or worker."""
    try:
        for queue in sorted(broker.get_declared_queues()):
            broker.declare_queue(queue, ensure=True)
        return True
    except Exception:
        log.warning("RabbitMQ queues not declared at start (unreachable?)", exc_info=True)
        return False
    finally:
        del broker.connection


def queue_name(app, name: str) -> str:
    """The broker's name for the project's queue `name` (with the RabbitMQ prefix, if any)."""
    return app.extensions.get("dramatiq_queue_prefix", "") + name


def queue_counts(broker=None) -> dict[str, tuple[int, int, int]]:
    """Per queue of the project's actors (named without any test prefix): messages waiting,
    delayed (retries, delays) and dead-lettered. Works on both brokers."""
    from flask import current_app

    broker = broker or current_app.extensions["dramatiq"]
    prefix = current_app.extensions.get("dramatiq_queue_prefix", "")
    queues = sorted({q_name(q) for q in broker.get_declared_queues()})
    if isinstance(broker, RedisBroker):
        # Redis keeps each queue as a list `<ns>:<queue>`, its delayed messages in `<queue>.DQ`
        # and the dead-lettered ids in the sorted set `<queue>.XQ` (dramatiq/brokers/redis/dispatch.lua)
        client, ns = broker.client, broker.namespace
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(f"{ns}:{queue}")
                pipe.llen(f"{ns}:{queue}.DQ")
                pipe.zcard(f"{ns}:{xq_name(queue)}")
            found = pipe.execute()
        counts = {queue: tuple(found[3 * i : 3 * i + 3]) for i, queue in enumerate(queues)}
    else:  # RabbitMQ: a (re)declaration answers each queue's message count
        try:
            counts = {queue: tuple(broker.get_queue_message_counts(queue)) for queue in queues}
        finally:
            del broker.connection
    return {queue.removeprefix(prefix): value for queue, value in counts.items()}


def dead_letter_counts(broker=None) -> dict[str, int]:
    """Dead-lettered messages per queue (a message whose retries ran out; each broker keeps
    them 7 days), on Redis or RabbitMQ alike: what the `cms_dead_letter_messages` gauge shows."""
    return {queue: dead for queue, (_, _, dead) in queue_counts(broker).items()}


# What waits for the commit, in the order it was queued: (scope, ("send", actor, args, kwargs) or
# ("call", fn, args)). The scope is the savepoint (`session.begin_nested()`) open when it was
# queued, None outside any. SQLAlchemy fires `after_commit` when a savepoint is released too, and
# `after_rollback` when one is rolled back (tests/test_tasks.py shows both), so the hooks below
# look at which transaction ended: a released savepoint hands its work to the enclosing one, a
# rolled-back savepoint drops only its own, and only the session's own commit or rollback sends
# or drops everything (docs/architecture.md §3.9).
_PENDING = "after_commit_pending"


def _defer(session: Session | scoped_session, item: tuple) -> None:
    if isinstance(session, scoped_session):  # `db.session` itself: the session of this context
        session = session()
    session.info.setdefault(_PENDING, []).append((session.get_nested_transaction(), item))


def send_after_commit(session: Session, lazy_actor: LazyActor, *args, **kwargs) -> None:
    """Queue a message to be sent once `session` commits; a rollback drops it (a rolled-back
    savepoint drops what was queued inside it)."""
    _defer(session, ("send", lazy_actor, args, kwargs))


def call_after_commit(session: Session, fn, *args) -> None:
    """Call `fn(*args)` in this process once `session` commits; a rollback drops it. For quick
    local work that must not happen unless the change is kept, such as removing the files of a
    deleted asset (anything slow or remote goes to an actor through `send_after_commit`)."""
    _defer(session, ("call", fn, args))


def _within(scope, savepoint) -> bool:
    """Whether `scope` (a savepoint or None) is `savepoint` or nested inside it."""
    while scope is not None:
        if scope is savepoint:
            return True
        scope = scope.parent
    return False


@sa.event.listens_for(Session, "after_commit")
def _send_pending(session):
    pending = session.info.get(_PENDING)
    if not pending:
        return
    released = session.get_nested_transaction()
    if released is not None:  # a savepoint released: its work now waits for the enclosing transaction
        enclosing = released.parent if released.parent is not None and released.parent.nested else None
        session.info[_PENDING] = [(enclosing if scope is released else scope, item) for scope, item in pending]
        return
    session.info.pop(_PENDING)
    for _, (kind, *what) in pending:  # the messages first, then the local calls
        if kind != "send":
            continue
        lazy_actor, args, kwargs = what
        try:
            lazy_actor.send(*args, **kwargs)
        except Exception:
            # The change is committed: the caller must not answer "nothing was changed". The
            # row waits, and the recovery job (app/recovery.py) re-sends its message later.
            log.exception(
                "message %s%r not sent after the commit (broker unavailable); the recovery job will re-send it",
                lazy_actor.actor_name,
                args,
            )
    for _, (kind, *what) in pending:
        if kind == "call":
            fn, args = what
            fn(*args)


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction):
    """A savepoint rolled back: only what was queued inside it goes."""
    pending = session.info.get(_PENDING)
    if pending and previous_transaction.nested:
        session.info[_PENDING] = [(s, item) for s, item in pending if not _within(s, previous_transaction)]


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_unsent(session, transaction):
    """The session's own transaction is over: committed, its work was sent just before; rolled
    back or closed (`Session.close()` fires no rollback event), what is left was never kept."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
