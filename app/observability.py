"""Logging, request ids and error reporting for the web, worker and scheduler processes.

Each log record is one line: JSON in production (`LOG_FORMAT`, default json when
`APP_ENV=production`, text otherwise) with the time, level, logger, message and whatever is
known of its context: the request id and the user id in a request; the actor, the message id,
the id the actor works on (`publication_id`, `asset_id`...) and the id of the request that sent
it in a worker. The request id comes from a well-formed `X-Request-ID` header (the reverse
proxy's) or is made here, and is echoed in the response. See docs/operations.md.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

import dramatiq

# Context of the message being processed in this worker thread (empty elsewhere).
_message_context: ContextVar[dict] = ContextVar("message_context", default={})
# A request id as proxies make them: nginx's $request_id (32 hex), UUIDs, ULIDs...
REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
HANDLER_MARK = "_cms_handler"
RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Libraries whose INFO lines say nothing an operator needs (alembic: one per plugin, each time
# the migrations' head is read).
QUIET = {"alembic.runtime.plugins": logging.WARNING}


def current_request_id() -> str | None:
    from flask import g, has_request_context

    if has_request_context():
        return g.get("request_id")
    return _message_context.get().get("request_id")


class ContextFilter(logging.Filter):
    """Adds the request's or the message's context to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_request_context

        context = dict(_message_context.get())
        if has_request_context():
            context["request_id"] = g.get("request_id")
            user = g.get("_login_user")  # only a user already loaded: logging runs no query
            if user is not None and getattr(user, "is_authenticated", False):
                context["user_id"] = user.id
        for key, value in context.items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; gunicorn's access lines get their fields split out."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and hasattr(record.args, "get"):
            entry.update(_access_fields(record.args))
        entry.update(
            {key: value for key, value in vars(record).items() if key not in RESERVED and not key.startswith("_")}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _access_fields(atoms) -> dict:
    request_id = atoms.get("{x-request-id}o")
    return {
        "request_id": request_id if request_id not in (None, "-") else None,
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status": atoms.get("s"),
        "bytes": atoms.get("B"),
        "duration_ms": round(int(atoms.get("D") or 0) / 1000, 1),
        "remote_addr": atoms.get("h"),
    }


class TextFormatter(logging.Formatter):
    """The development format, with the context appended as key=value pairs."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s [%(name)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in RESERVED and not key.startswith("_") and value is not None
        )
        return f"{line} {extra}" if extra else line


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (a test runner or Dramatiq's
    worker may replace it after the handler was made)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(app) -> None:
    """The root logger writes through one handler in the chosen format, with the context filter.
    A handler `logging.basicConfig` installed (Dramatiq's worker does, on its log pipe) is
    reused rather than doubled; the test runner's capture handlers are left alone."""
    from flask.logging import default_handler

    formatter = formatter_for(app.config["LOG_FORMAT"])
    root = logging.getLogger()
    handlers = [h for h in root.handlers if getattr(h, HANDLER_MARK, False) or type(h) is logging.StreamHandler]
    if not handlers:
        handler = _StderrHandler()
        setattr(handler, HANDLER_MARK, True)
        root.addHandler(handler)
        handlers = [handler]
    for handler in handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    root.setLevel(app.config["LOG_LEVEL"])
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    app.logger.removeHandler(default_handler)  # the root handler writes Flask's lines too


# --- Requests ------------------------------------------------------------------------------


def start_request() -> None:
    from flask import g, request

    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response):
    from flask import g

    if g.get("request_id"):
        response.headers["X-Request-ID"] = g.request_id
    return response


# --- Worker messages -----------------------------------------------------------------------


class MessageContextMiddleware(dramatiq.Middleware):
    """Messages carry the id of the request (or message) that sent them; while one is processed
    its actor, id and subject (the actor's first `*_id` argument) are in every log line, and one
    line tells how it ended."""

    def __init__(self):
        self._started: dict[str, tuple[float, object]] = {}
        self.log = logging.getLogger("app.tasks")

    def before_enqueue(self, broker, message, delay):
        request_id = current_request_id()
        if request_id and "request_id" not in message.options:
            message.options["request_id"] = request_id

    def before_process_message(self, broker, message):
        context = {
            "actor": message.actor_name,
            "message_id": message.message_id,
            "request_id": message.options.get("request_id"),
        }
        context.update(_subject(broker, message))
        token = _message_context.set(context)
        self._started[message.message_id] = (time.perf_counter(), token)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started, token = self._started.pop(message.message_id, (None, None))
        if started is not None:
            ms = round((time.perf_counter() - started) * 1000, 1)
            if exception is None:
                self.log.info("%s done in %s ms", message.actor_name, ms, extra={"duration_ms": ms})
            else:
                self.log.warning(
                    "%s failed after %s ms: %s",
                    message.actor_name,
                    ms,
                    type(exception).__name__,
                    extra={"duration_ms": ms},
                )
        if token is not None:
            _message_context.reset(token)

    def after_skip_message(self, broker, message):
        self.after_process_message(broker, message)


def _subject(broker, message) -> dict:
    """`publish(publication_id)` -> {"publication_id": 42}: the argument names say what it is."""
    try:
        parameters = list(inspect.signature(broker.get_actor(message.actor_name).fn).parameters)
    except Exception:  # an actor this process does not know: no subject, still logged
        return {}
    return {
        name: value
        for name, value in zip(parameters, message.args)
        if name.endswith("_id") and isinstance(value, (int, str))
    }


def install_message_context(broker) -> None:
    if not any(isinstance(m, MessageContextMiddleware) for m in broker.middleware):
        broker.add_middleware(MessageContextMiddleware())


# --- Error reporting -----------------------------------------------------------------------


def init_sentry(app) -> None:
    """Errors of the web and the workers to Sentry when `SENTRY_DSN` is set. Called before the
    broker is built: the Dramatiq integration hooks into brokers created afterwards."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["APP_ENV"],
        traces_sample_rate=app.config["SENTRY_TRACES_SAMPLE_RATE"],
        integrations=[FlaskIntegration(), DramatiqIntegration()],
    )
